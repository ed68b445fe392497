// An independent verifier of a Tongban ledger export (test/interop/ledger-java.test.ts).
//
// Written from docs/ledger.md alone (§4 the tree, §5 checkpoints and keys, §7 the export and the
// order of its checks), c2sp.org/signed-note and RFC 9162 §2.1; it shares no code with Tongban.
// Run as a single-file program (Java 17+):
//   java -cp /usr/share/java/bcprov.jar test/interop/java/LedgerVerify.java <exportDir> [<vkeysFile>]
//
// Prints one line on stdout, "OK <n> entries <m> checkpoints <base64 root>" (exit 0) or
// "FAIL <record>: <reason>" (exit 1), <record> being "ledger.json", "keys/vkeys.txt",
// "verifier key <k>", "checkpoints/", "checkpoint <size>" or "entry <leaf index>". A file that cannot
// be read at all (a missing entries.jsonl, an unreadable vkeys file) gives only
// "LedgerVerify: <error>" on stderr, exit 1. Wrong command line: exit 2.
//
// Not checked (optional): that each entry is exactly its JCS form, and per-kind members.
// SM3 and SM2 are Bouncy Castle's; SHA-256 and ECDSA P-256 the JDK's.
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.gm.GMNamedCurves;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.util.encoders.Hex;

public class LedgerVerify {
    /** A named fault: "FAIL <record>: <message>". */
    static final class Fail extends Exception {
        final String record;

        Fail(String record, String message) {
            super(message);
            this.record = record;
        }
    }

    /** A file that cannot be read at all (exit 1, stderr only). */
    static final class Unreadable extends Exception {
        Unreadable(String message) {
            super(message);
        }
    }

    static final String FORMAT = "tongban-ledger-export@v1";
    static final Set<String> KINDS = Set.of("message.accepted", "delivery.settled", "query.recorded", "case.read",
            "operator.action", "directory.loaded", "keys.loaded");
    static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    static final Pattern SIZE = Pattern.compile("0|[1-9][0-9]{0,15}");
    static final Pattern TIMESTAMP = Pattern.compile("timestamp (\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z)");
    static final Pattern B64 = Pattern.compile("(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?");
    static final Pattern NOTE_NAME = Pattern.compile("(.*)\\.note");

    // §5: the two signature types.
    static final byte[] TYPE_ECDSA = { 0x02 };
    static final byte[] TYPE_SM2 = concat(new byte[] { (byte) 0xff }, "tongban.sm2sm3".getBytes(StandardCharsets.US_ASCII));
    static final byte[] P256_PREFIX = Hex.decode("3059301306072a8648ce3d020106082a8648ce3d03010703420004");
    static final byte[] SM2_PREFIX = Hex.decode("3059301306072a8648ce3d020106082a811ccf5501822d03420004");
    static final byte[] SM2_USER_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);
    static final X9ECParameters SM2_CURVE = GMNamedCurves.getByName("sm2p256v1");
    static final ECDomainParameters SM2_DOMAIN = new ECDomainParameters(SM2_CURVE.getCurve(), SM2_CURVE.getG(),
            SM2_CURVE.getN(), SM2_CURVE.getH());
    static final byte[] EM_DASH_SPACE = "\u2014 ".getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: LedgerVerify <exportDir> [<vkeysFile>]");
            System.exit(2);
        }
        try {
            Result r = verify(Path.of(args[0]), args.length > 1 ? Path.of(args[1]) : null);
            System.out.println("OK " + r.entries + " entries " + r.checkpoints + " checkpoints " + b64(r.root));
            System.exit(0);
        } catch (Fail f) {
            System.out.println("FAIL " + f.record + ": " + f.getMessage());
            System.exit(1);
        } catch (Unreadable u) {
            System.err.println("LedgerVerify: " + u.getMessage());
            System.exit(1);
        }
    }

    record Result(long entries, int checkpoints, byte[] root) {
    }

    record VKey(String name, byte[] keyId, boolean sm2, Object key) {
    }

    record Checkpoint(long size, byte[] root, String timestamp) {
    }

    // ------------------------------------------------------------------ §7: the checks, in order

    static Result verify(Path dir, Path vkeysFile) throws Fail, Unreadable {
        // 1. ledger.json
        Map<String, Object> meta;
        try {
            Object j = new Json(new String(Files.readAllBytes(dir.resolve("ledger.json")), StandardCharsets.UTF_8)).document();
            if (!(j instanceof Map)) throw new Fail("ledger.json", "not a JSON object");
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) j;
            meta = m;
        } catch (IOException e) {
            throw new Fail("ledger.json", "cannot be read: " + e);
        } catch (IllegalArgumentException e) {
            throw new Fail("ledger.json", "not JSON: " + e.getMessage());
        }
        if (!FORMAT.equals(meta.get("format"))) throw new Fail("ledger.json", "format is not " + FORMAT);
        Object alg = meta.get("hashAlg");
        if (!"SM3".equals(alg) && !"SHA-256".equals(alg)) throw new Fail("ledger.json", "hashAlg is neither SM3 nor SHA-256");
        boolean sm3 = "SM3".equals(alg);
        if (!(meta.get("origin") instanceof String origin)) throw new Fail("ledger.json", "origin is not a string");
        if (!(meta.get("treeSize") instanceof Num ts) || !ts.isInteger() || ts.value.signum() < 0 || ts.value.bitLength() > 62) {
            throw new Fail("ledger.json", "treeSize is not an integer");
        }
        long treeSize = ts.value.longValueExact();

        // 2. trusted keys
        List<VKey> keys = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        if (vkeysFile != null) {
            try {
                for (String l : new String(Files.readAllBytes(vkeysFile), StandardCharsets.UTF_8).split("\n", -1)) {
                    if (!l.isEmpty()) lines.add(l);
                }
            } catch (IOException e) {
                throw new Unreadable("cannot read " + vkeysFile + ": " + e);
            }
        }
        if (lines.isEmpty()) {
            System.err.println("notice: no trusted keys given: using keys/vkeys.txt (integrity, not origin)");
            try {
                for (String l : new String(Files.readAllBytes(dir.resolve("keys/vkeys.txt")), StandardCharsets.UTF_8).split("\n", -1)) {
                    if (!l.isEmpty()) lines.add(l);
                }
            } catch (IOException e) {
                throw new Fail("keys/vkeys.txt", "cannot be read: " + e);
            }
            if (lines.isEmpty()) throw new Fail("keys/vkeys.txt", "holds no verifier key");
        }
        for (int i = 0; i < lines.size(); i++) {
            try {
                keys.add(parseVkey(lines.get(i)));
            } catch (IllegalArgumentException e) {
                throw new Fail("verifier key " + (i + 1), e.getMessage());
            }
        }

        // 3. the checkpoints, by size ascending
        TreeMap<Long, Path> notes = new TreeMap<>();
        Path cpDir = dir.resolve("checkpoints");
        try (var s = Files.list(cpDir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Matcher m = NOTE_NAME.matcher(p.getFileName().toString());
                if (!m.matches()) continue;
                if (!SIZE.matcher(m.group(1)).matches()) throw new Fail("checkpoints/", p.getFileName() + " is not named <size>.note");
                notes.put(Long.parseLong(m.group(1)), p);
            }
        } catch (IOException e) {
            throw new Fail("checkpoints/", "cannot be listed: " + e);
        }
        List<Checkpoint> cps = new ArrayList<>();
        String lastTimestamp = null;
        for (Map.Entry<Long, Path> e : notes.entrySet()) {
            long size = e.getKey();
            String rec = "checkpoint " + size;
            byte[] note;
            try {
                note = Files.readAllBytes(e.getValue());
            } catch (IOException x) {
                throw new Fail(rec, "cannot be read: " + x);
            }
            Checkpoint cp;
            try {
                cp = verifyNote(note, keys, origin);
            } catch (IllegalArgumentException x) {
                throw new Fail(rec, x.getMessage());
            }
            if (cp.size != size) throw new Fail(rec, "its signed size is " + cp.size + ", not its file name's");
            if (lastTimestamp != null && cp.timestamp.compareTo(lastTimestamp) < 0) {
                throw new Fail(rec, "its timestamp is earlier than the previous checkpoint's");
            }
            lastTimestamp = cp.timestamp;
            cps.add(cp);
        }

        // 4. the last checkpoint is ledger.json's treeSize
        long lastSize = cps.isEmpty() ? 0 : cps.get(cps.size() - 1).size;
        if (lastSize != treeSize) {
            throw new Fail("ledger.json", "treeSize " + treeSize + " is not the last checkpoint's size " + lastSize);
        }

        // 5. consistency between successive checkpoints (first size non-zero)
        for (int i = 0; i + 1 < cps.size(); i++) {
            Checkpoint a = cps.get(i), b = cps.get(i + 1);
            if (a.size == 0) continue;
            String rec = "checkpoint " + b.size;
            Path p = dir.resolve("consistency").resolve(a.size + "-" + b.size + ".txt");
            List<byte[]> proof = new ArrayList<>();
            try {
                String text = new String(Files.readAllBytes(p), StandardCharsets.US_ASCII);
                for (String l : text.split("\n")) {
                    if (l.isEmpty()) continue;
                    byte[] h = strictB64(l);
                    if (h == null || h.length != 32) throw new Fail(rec, "consistency/" + p.getFileName() + " holds a line that is not a base64 hash");
                    proof.add(h);
                }
            } catch (IOException x) {
                throw new Fail(rec, "consistency/" + a.size + "-" + b.size + ".txt is missing or unreadable");
            }
            if (!verifyConsistency(sm3, a.size, b.size, a.root, b.root, proof)) {
                throw new Fail(rec, "the consistency proof from " + a.size + " does not verify between the signed roots");
            }
        }

        // 6. the entries, line by line
        byte[] entries;
        try {
            entries = Files.readAllBytes(dir.resolve("entries.jsonl"));
        } catch (IOException x) {
            throw new Unreadable("cannot read " + dir.resolve("entries.jsonl") + ": " + x);
        }
        List<String> leaves = null;
        try {
            String text = new String(Files.readAllBytes(dir.resolve("leaves.txt")), StandardCharsets.US_ASCII);
            leaves = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
            if (text.endsWith("\n")) leaves.remove(leaves.size() - 1);
        } catch (NoSuchFileException x) {
            System.err.println("notice: no leaves.txt: a changed entry is found by the checkpoint after it");
        } catch (IOException x) {
            throw new Unreadable("cannot read leaves.txt: " + x);
        }
        Map<Long, Checkpoint> bySize = new LinkedHashMap<>();
        for (Checkpoint c : cps) bySize.put(c.size, c);
        Tree tree = new Tree(sm3);
        Set<String> ids = new HashSet<>();
        long index = 0;
        int start = 0;
        while (start < entries.length) {
            int end = start;
            while (end < entries.length && entries[end] != 0x0a) end++;
            byte[] line = Arrays.copyOfRange(entries, start, end);
            start = end + 1;
            String rec = "entry " + index;
            if (index >= treeSize) throw new Fail(rec, "beyond the tree size " + treeSize);
            checkEntry(line, ids, rec);
            byte[] leaf = hash(sm3, new byte[] { 0x00 }, line);
            if (leaves != null) {
                String stored = index < leaves.size() ? leaves.get((int) index) : "";
                if (!stored.equals(b64(leaf))) {
                    throw new Fail(rec, "its bytes do not hash to the leaf the gateway stored (leaves.txt)");
                }
            }
            tree.append(leaf);
            index++;
            Checkpoint c = bySize.get(index);
            if (c != null && !Arrays.equals(c.root, tree.root())) {
                throw new Fail("checkpoint " + index, "its signed root does not match entries 0…" + (index - 1));
            }
        }

        // 7. treeSize lines
        if (index != treeSize) {
            // docs/ledger.md names no record for this; the first missing leaf is named.
            throw new Fail("entry " + index, "missing: entries.jsonl has " + index + " lines, the last checkpoint covers " + treeSize);
        }
        return new Result(index, cps.size(), tree.root());
    }

    /** §7 step 6 without the JCS form: a JSON object, v = 1, a known kind, a fresh lower-case UUID, a date. */
    static void checkEntry(byte[] line, Set<String> ids, String rec) throws Fail {
        Object j;
        try {
            j = new Json(new String(line, StandardCharsets.UTF_8)).document();
        } catch (IllegalArgumentException e) {
            throw new Fail(rec, "not JSON: " + e.getMessage());
        }
        if (!(j instanceof Map<?, ?> m)) throw new Fail(rec, "not a JSON object");
        if (!(m.get("v") instanceof Num v) || !v.isInteger() || !v.value.equals(BigInteger.ONE)) throw new Fail(rec, "v is not 1");
        if (!(m.get("kind") instanceof String kind) || !KINDS.contains(kind)) throw new Fail(rec, "unknown kind");
        if (!(m.get("id") instanceof String id) || !UUID.matcher(id).matches()) throw new Fail(rec, "id is not a lower-case UUID");
        if (!ids.add(id)) throw new Fail(rec, "id " + id + " is on an earlier line");
        if (!(m.get("at") instanceof String at)) throw new Fail(rec, "at is not a string");
        try {
            Instant.parse(at);
        } catch (RuntimeException e) {
            throw new Fail(rec, "at is not a date");
        }
    }

    // ------------------------------------------------------------------ §5: vkeys and signed notes

    static VKey parseVkey(String s) {
        int a = s.indexOf('+');
        int b = a < 0 ? -1 : s.indexOf('+', a + 1);
        if (b < 0) throw new IllegalArgumentException("not <name>+<key ID>+<key>");
        String name = s.substring(0, a), hexId = s.substring(a + 1, b), key = s.substring(b + 1);
        if (name.isEmpty() || hasWhitespace(name)) throw new IllegalArgumentException("empty name or whitespace in it");
        if (!hexId.matches("[0-9a-f]{8}")) throw new IllegalArgumentException("key ID is not 8 lower-case hex digits");
        byte[] tp = strictB64(key);
        if (tp == null || tp.length < 1) throw new IllegalArgumentException("key is not base64");
        byte[] keyId = Hex.decode(hexId);
        if (tp[0] == 0x02) {
            byte[] p = Arrays.copyOfRange(tp, 1, tp.length);
            PublicKey k = p256(p);
            if (!Arrays.equals(Arrays.copyOf(sha256(p), 4), keyId)) throw new IllegalArgumentException("key ID does not match the key");
            return new VKey(name, keyId, false, k);
        }
        if (tp.length > TYPE_SM2.length && Arrays.equals(Arrays.copyOf(tp, TYPE_SM2.length), TYPE_SM2)) {
            byte[] p = Arrays.copyOfRange(tp, TYPE_SM2.length, tp.length);
            ECPublicKeyParameters k = sm2(p);
            byte[] id = Arrays.copyOf(sha256(concat(name.getBytes(StandardCharsets.UTF_8), new byte[] { 0x0a }, TYPE_SM2, p)), 4);
            if (!Arrays.equals(id, keyId)) throw new IllegalArgumentException("key ID does not match the key");
            return new VKey(name, keyId, true, k);
        }
        throw new IllegalArgumentException("type is neither ECDSA (0x02) nor SM2 (0xff tongban.sm2sm3)");
    }

    static PublicKey p256(byte[] spki) {
        if (spki.length != 91 || !Arrays.equals(Arrays.copyOf(spki, P256_PREFIX.length), P256_PREFIX)) {
            throw new IllegalArgumentException("not a P-256 SubjectPublicKeyInfo");
        }
        try {
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
        } catch (Exception e) {
            throw new IllegalArgumentException("not a P-256 key: " + e.getMessage());
        }
    }

    static ECPublicKeyParameters sm2(byte[] spki) {
        if (spki.length != 91 || !Arrays.equals(Arrays.copyOf(spki, SM2_PREFIX.length), SM2_PREFIX)) {
            throw new IllegalArgumentException("not an SM2 SubjectPublicKeyInfo");
        }
        try {
            byte[] point = Arrays.copyOfRange(spki, 26, 91); // 0x04 ‖ x ‖ y
            return new ECPublicKeyParameters(SM2_DOMAIN.getCurve().decodePoint(point).normalize(), SM2_DOMAIN);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an SM2 point: " + e.getMessage());
        }
    }

    /** §5 "Verifying a checkpoint", steps 1 to 4; returns the signed size, root and timestamp. */
    static Checkpoint verifyNote(byte[] note, List<VKey> keys, String origin) {
        // 1. control characters, final newline, split at the last "\n\n"
        for (byte c : note) {
            if ((c >= 0 && c <= 0x09) || (c >= 0x0b && c <= 0x1f)) throw new IllegalArgumentException("the note holds a control character");
        }
        if (note.length == 0 || note[note.length - 1] != 0x0a) throw new IllegalArgumentException("the note does not end in a newline");
        int split = -1;
        for (int i = note.length - 2; i >= 0; i--) {
            if (note[i] == 0x0a && note[i + 1] == 0x0a) {
                split = i;
                break;
            }
        }
        if (split < 0) throw new IllegalArgumentException("the note has no empty line before its signatures");
        byte[] text = Arrays.copyOf(note, split + 1);
        byte[] sigs = Arrays.copyOfRange(note, split + 2, note.length - 1);

        // 2. signature lines
        List<byte[]> sigLines = splitNl(sigs);
        if (sigLines.isEmpty()) throw new IllegalArgumentException("the note has no signature line");
        int verified = 0;
        for (byte[] l : sigLines) {
            if (l.length < EM_DASH_SPACE.length || !Arrays.equals(Arrays.copyOf(l, EM_DASH_SPACE.length), EM_DASH_SPACE)) {
                throw new IllegalArgumentException("a signature line does not start with an em dash and a space");
            }
            String rest = new String(l, EM_DASH_SPACE.length, l.length - EM_DASH_SPACE.length, StandardCharsets.UTF_8);
            int sp = rest.indexOf(' ');
            if (sp <= 0) throw new IllegalArgumentException("a signature line has no name");
            String name = rest.substring(0, sp);
            if (hasWhitespace(name)) throw new IllegalArgumentException("a signature name holds whitespace");
            byte[] sig = strictB64(rest.substring(sp + 1));
            if (sig == null || sig.length < 5) throw new IllegalArgumentException("a signature is not base64 of at least 5 bytes");
            byte[] keyId = Arrays.copyOf(sig, 4);
            byte[] der = Arrays.copyOfRange(sig, 4, sig.length);
            // 3. a known key (name and key ID) must verify
            for (VKey k : keys) {
                if (!k.name.equals(name) || !Arrays.equals(k.keyId, keyId)) continue;
                if (!(k.sm2 ? verifySm2((ECPublicKeyParameters) k.key, text, der) : verifyEcdsa((PublicKey) k.key, text, der))) {
                    throw new IllegalArgumentException("the signature of " + name + "+" + Hex.toHexString(keyId) + " does not verify");
                }
                verified++;
            }
        }
        if (verified == 0) throw new IllegalArgumentException("no signature of a trusted key");

        // 4. the text
        List<byte[]> t = splitNl(Arrays.copyOf(text, text.length - 1));
        if (t.size() < 4) throw new IllegalArgumentException("the note text has fewer than four lines");
        String o = new String(t.get(0), StandardCharsets.UTF_8);
        if (o.isEmpty() || !o.equals(origin)) throw new IllegalArgumentException("origin " + o + " is not " + origin);
        String size = new String(t.get(1), StandardCharsets.UTF_8);
        if (!SIZE.matcher(size).matches()) throw new IllegalArgumentException("the size line is not a decimal size");
        String rootLine = new String(t.get(2), StandardCharsets.UTF_8);
        byte[] root = strictB64(rootLine);
        if (root == null || root.length != 32) throw new IllegalArgumentException("the root line is not base64 of 32 bytes");
        Matcher ts = TIMESTAMP.matcher(new String(t.get(3), StandardCharsets.UTF_8));
        if (!ts.matches()) throw new IllegalArgumentException("the fourth line is not a timestamp");
        return new Checkpoint(Long.parseLong(size), root, ts.group(1));
    }

    static boolean verifyEcdsa(PublicKey key, byte[] text, byte[] der) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(text);
            return s.verify(der);
        } catch (Exception e) {
            return false;
        }
    }

    static boolean verifySm2(ECPublicKeyParameters key, byte[] text, byte[] der) {
        try {
            SM2Signer s = new SM2Signer(); // DER SEQUENCE { r, s }
            s.init(false, new ParametersWithID(key, SM2_USER_ID));
            s.update(text, 0, text.length);
            return s.verifySignature(der);
        } catch (Exception e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ §4: the tree

    /** Appends leaf hashes; keeps the perfect subtrees of the binary decomposition of the size. */
    static final class Tree {
        final boolean sm3;
        final List<byte[]> hashes = new ArrayList<>();
        final List<Long> sizes = new ArrayList<>();

        Tree(boolean sm3) {
            this.sm3 = sm3;
        }

        void append(byte[] leaf) {
            byte[] h = leaf;
            long n = 1;
            while (!sizes.isEmpty() && sizes.get(sizes.size() - 1) == n) {
                h = node(sm3, hashes.remove(hashes.size() - 1), h);
                sizes.remove(sizes.size() - 1);
                n *= 2;
            }
            hashes.add(h);
            sizes.add(n);
        }

        /** MTH of the leaves so far (RFC 9162 §2.1.1): the subtrees folded right to left. */
        byte[] root() {
            if (hashes.isEmpty()) return hash(sm3);
            byte[] r = hashes.get(hashes.size() - 1);
            for (int i = hashes.size() - 2; i >= 0; i--) r = node(sm3, hashes.get(i), r);
            return r;
        }
    }

    /** RFC 9162 §2.1.4.2, as docs/ledger.md §4 gives it. */
    static boolean verifyConsistency(boolean sm3, long m, long n, byte[] root1, byte[] root2, List<byte[]> proofIn) {
        if (m < 0 || m > n) return false;
        if (m == n) return proofIn.isEmpty() && Arrays.equals(root1, root2);
        if (m == 0) return proofIn.isEmpty();
        if (proofIn.isEmpty()) return false;
        List<byte[]> proof = new ArrayList<>(proofIn);
        if ((m & (m - 1)) == 0) proof.add(0, root1);
        long fn = m - 1, sn = n - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = proof.get(0), sr = proof.get(0);
        for (byte[] c : proof.subList(1, proof.size())) {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                fr = node(sm3, c, fr);
                sr = node(sm3, c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = node(sm3, sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return Arrays.equals(fr, root1) && Arrays.equals(sr, root2) && sn == 0;
    }

    static byte[] node(boolean sm3, byte[] left, byte[] right) {
        return hash(sm3, new byte[] { 0x01 }, left, right);
    }

    static byte[] hash(boolean sm3, byte[]... parts) {
        if (sm3) {
            SM3Digest d = new SM3Digest();
            for (byte[] p : parts) d.update(p, 0, p.length);
            byte[] out = new byte[32];
            d.doFinal(out, 0);
            return out;
        }
        return sha256(parts);
    }

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) d.update(p);
            return d.digest();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ small helpers

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    static List<byte[]> splitNl(byte[] b) {
        List<byte[]> out = new ArrayList<>();
        if (b.length == 0) return out;
        int s = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i == b.length || b[i] == 0x0a) {
                out.add(Arrays.copyOfRange(b, s, i));
                s = i + 1;
            }
        }
        return out;
    }

    static boolean hasWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i)) || Character.isSpaceChar(s.charAt(i))) return true;
        }
        return false;
    }

    /** RFC 4648 §4 with padding, and canonical (re-encodes to the same string); null if not. */
    static byte[] strictB64(String s) {
        if (!B64.matcher(s).matches()) return null;
        try {
            byte[] b = Base64.getDecoder().decode(s);
            return b64(b).equals(s) ? b : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** A number as written: kept exactly (BigDecimal), for the few integer checks needed. */
    static final class Num {
        final java.math.BigDecimal raw;
        final BigInteger value;

        Num(String text) {
            raw = new java.math.BigDecimal(text);
            BigInteger v;
            try {
                v = raw.toBigIntegerExact();
            } catch (ArithmeticException e) {
                v = null;
            }
            value = v;
        }

        boolean isInteger() {
            return value != null;
        }
    }

    /** A strict RFC 8259 reader: objects (Map, last duplicate wins), arrays, strings, Num, booleans, null. */
    static final class Json {
        final String s;
        int i;

        Json(String s) {
            this.s = s;
        }

        Object document() {
            ws();
            Object v = value();
            ws();
            if (i != s.length()) throw err("text after the value");
            return v;
        }

        IllegalArgumentException err(String what) {
            return new IllegalArgumentException(what + " at " + i);
        }

        void ws() {
            while (i < s.length() && " \t\n\r".indexOf(s.charAt(i)) >= 0) i++;
        }

        Object value() {
            if (i >= s.length()) throw err("end of text");
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (peek('}')) return m;
                while (true) {
                    ws();
                    if (i >= s.length() || s.charAt(i) != '"') throw err("expected a name");
                    String k = string();
                    ws();
                    expect(':');
                    ws();
                    m.put(k, value());
                    ws();
                    if (peek('}')) return m;
                    expect(',');
                }
            }
            if (c == '[') {
                i++;
                List<Object> a = new ArrayList<>();
                ws();
                if (peek(']')) return a;
                while (true) {
                    ws();
                    a.add(value());
                    ws();
                    if (peek(']')) return a;
                    expect(',');
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            Matcher m = Pattern.compile("-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?").matcher(s).region(i, s.length());
            if (m.lookingAt()) {
                i = m.end();
                return new Num(m.group());
            }
            throw err("unexpected character");
        }

        boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        void expect(char c) {
            if (!peek(c)) throw err("expected '" + c + "'");
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw err("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c < 0x20) throw err("control character in a string");
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (i >= s.length()) throw err("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length() || !s.substring(i, i + 4).matches("[0-9A-Fa-f]{4}")) throw err("bad \\u escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw err("bad escape");
                }
            }
        }
    }
}
