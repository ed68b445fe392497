// Bouncy Castle side of Tongban's national-suite interop tests (test/crypto/interop-bc.test.ts,
// test/interop/attachments-java.test.ts).
//
// Run as a single-file program (Java 17+), one JVM for a whole batch:
//   java -cp /usr/share/java/bcprov.jar test/interop/java/TongbanInterop.java < requests > answers
//
// Each request line is "<op> <arg> ...", binary arguments and results in hex ("-" for empty bytes); each answer
// line is "OK <result>" or "ERR <exception class>", in request order. Nothing here shares code with
// Tongban: the SM2/SM3/SM4 primitives are Bouncy Castle's, the JOSE framing below is written
// from docs/national-suite.md alone, and the attachment stream from docs/protocol.md ("Attachments").
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.gm.GMNamedCurves;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.engines.SM4Engine;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.modes.CBCBlockCipher;
import org.bouncycastle.crypto.paddings.PKCS7Padding;
import org.bouncycastle.crypto.paddings.PaddedBufferedBlockCipher;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.PlainDSAEncoding;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.util.encoders.Hex;

public class TongbanInterop {
    static final X9ECParameters X9 = GMNamedCurves.getByName("sm2p256v1");
    static final ECDomainParameters DOMAIN = new ECDomainParameters(X9.getCurve(), X9.getG(), X9.getN(), X9.getH());
    static final SecureRandom RANDOM = new SecureRandom();
    static final byte[] DEFAULT_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);

    // ------------------------------------------------------------------ primitives (Bouncy Castle)

    static ECPrivateKeyParameters priv(byte[] d) {
        return new ECPrivateKeyParameters(new BigInteger(1, d), DOMAIN);
    }

    /** decodePoint refuses points off the curve. */
    static ECPublicKeyParameters pub(byte[] point) {
        return new ECPublicKeyParameters(DOMAIN.getCurve().decodePoint(point).normalize(), DOMAIN);
    }

    static byte[] publicOf(byte[] d) {
        return DOMAIN.getG().multiply(new BigInteger(1, d)).normalize().getEncoded(false);
    }

    /** SM2 signature r||s (64 bytes) with user ID `id`. */
    static byte[] sign(byte[] d, byte[] id, byte[] msg) throws CryptoException {
        SM2Signer s = new SM2Signer(PlainDSAEncoding.INSTANCE);
        s.init(true, new ParametersWithID(new ParametersWithRandom(priv(d), RANDOM), id));
        s.update(msg, 0, msg.length);
        return s.generateSignature();
    }

    /** Verifies r||s (der = false) or a DER SEQUENCE { r, s } (der = true, Bouncy Castle's default). */
    static boolean verify(byte[] point, byte[] id, byte[] msg, byte[] sig, boolean der) {
        SM2Signer s = der ? new SM2Signer() : new SM2Signer(PlainDSAEncoding.INSTANCE);
        s.init(false, new ParametersWithID(pub(point), id));
        s.update(msg, 0, msg.length);
        return s.verifySignature(sig);
    }

    static byte[] sm2Encrypt(byte[] point, byte[] pt, SM2Engine.Mode mode) throws InvalidCipherTextException {
        SM2Engine e = new SM2Engine(mode);
        e.init(true, new ParametersWithRandom(pub(point), RANDOM));
        return e.processBlock(pt, 0, pt.length);
    }

    static byte[] sm2Decrypt(byte[] d, byte[] ct) throws InvalidCipherTextException {
        SM2Engine e = new SM2Engine(SM2Engine.Mode.C1C3C2);
        e.init(false, priv(d));
        return e.processBlock(ct, 0, ct.length);
    }

    @SuppressWarnings("deprecation") // CBCBlockCipher.newInstance only exists from Bouncy Castle 1.73
    static byte[] sm4Cbc(boolean encrypt, byte[] key, byte[] iv, byte[] in) throws InvalidCipherTextException {
        PaddedBufferedBlockCipher c = new PaddedBufferedBlockCipher(new CBCBlockCipher(new SM4Engine()), new PKCS7Padding());
        c.init(encrypt, new ParametersWithIV(new KeyParameter(key), iv));
        byte[] out = new byte[c.getOutputSize(in.length)];
        int n = c.processBytes(in, 0, in.length, out, 0);
        n += c.doFinal(out, n);
        return Arrays.copyOf(out, n);
    }

    static byte[] sm3(byte[] msg) {
        SM3Digest h = new SM3Digest();
        h.update(msg, 0, msg.length);
        byte[] out = new byte[32];
        h.doFinal(out, 0);
        return out;
    }

    static byte[] hmacSm3(byte[] key, byte[]... parts) {
        HMac mac = new HMac(new SM3Digest());
        mac.init(new KeyParameter(key));
        for (byte[] p : parts) mac.update(p, 0, p.length);
        byte[] out = new byte[32];
        mac.doFinal(out, 0);
        return out;
    }

    // ------------------------------------------------------------------ JOSE, from docs/national-suite.md

    static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    static final Base64.Decoder UNB64 = Base64.getUrlDecoder();
    static final Pattern B64URL = Pattern.compile("[A-Za-z0-9_-]*");

    static String b64(byte[] b) {
        return B64.encodeToString(b);
    }

    static byte[] unb64(String s) {
        if (!B64URL.matcher(s).matches()) throw new IllegalArgumentException("not base64url");
        return UNB64.decode(s);
    }

    /** True when the JSON text has "name": "value" (enough for the fixed headers of this test). */
    static boolean hasMember(String json, String name, String value) {
        return Pattern.compile("\"" + name + "\"\\s*:\\s*\"" + Pattern.quote(value) + "\"").matcher(json).find();
    }

    /** JWS "SM2SM3": SM2 with the default ID over ASCII(b64url(header) '.' b64url(payload)); signature r||s. */
    static String jwsSign(byte[] d, String headerJson, byte[] payload) throws CryptoException {
        String input = b64(headerJson.getBytes(StandardCharsets.UTF_8)) + "." + b64(payload);
        return input + "." + b64(sign(d, DEFAULT_ID, input.getBytes(StandardCharsets.US_ASCII)));
    }

    /** The payload of a valid SM2SM3 JWS; throws when the JWS is not valid under `point`. */
    static byte[] jwsOpen(byte[] point, String compact) {
        String[] p = compact.split("\\.", -1);
        if (p.length != 3) throw new IllegalArgumentException("JWS has 3 parts");
        String header = new String(unb64(p[0]), StandardCharsets.UTF_8);
        if (!hasMember(header, "alg", "SM2SM3")) throw new IllegalArgumentException("alg is not SM2SM3");
        byte[] sig = unb64(p[2]);
        if (sig.length != 64) throw new IllegalArgumentException("signature is not 64 bytes");
        if (!verify(point, DEFAULT_ID, (p[0] + "." + p[1]).getBytes(StandardCharsets.US_ASCII), sig, false)) {
            throw new SecurityException("signature invalid");
        }
        return unb64(p[1]);
    }

    /** Tag = first 16 bytes of HMAC-SM3(MAC_KEY, AAD || IV || ciphertext || AL), AL = 64-bit big-endian bit length of AAD. */
    static byte[] tag(byte[] macKey, byte[] aad, byte[] iv, byte[] ct) {
        byte[] al = ByteBuffer.allocate(8).putLong((long) aad.length * 8).array();
        return Arrays.copyOf(hmacSm3(macKey, aad, iv, ct, al), 16);
    }

    /** JWE alg "SM2", enc "SM4-CBC-HMAC-SM3". */
    static String jweEncrypt(byte[] point, String headerJson, byte[] plaintext) throws InvalidCipherTextException {
        String h = b64(headerJson.getBytes(StandardCharsets.UTF_8));
        byte[] cek = new byte[32];
        byte[] iv = new byte[16];
        RANDOM.nextBytes(cek);
        RANDOM.nextBytes(iv);
        byte[] macKey = Arrays.copyOfRange(cek, 0, 16);
        byte[] encKey = Arrays.copyOfRange(cek, 16, 32);
        byte[] ct = sm4Cbc(true, encKey, iv, plaintext);
        byte[] t = tag(macKey, h.getBytes(StandardCharsets.US_ASCII), iv, ct);
        byte[] ek = sm2Encrypt(point, cek, SM2Engine.Mode.C1C3C2);
        return String.join(".", h, b64(ek), b64(iv), b64(ct), b64(t));
    }

    static byte[] jweDecrypt(byte[] d, String compact) throws InvalidCipherTextException {
        String[] p = compact.split("\\.", -1);
        if (p.length != 5) throw new IllegalArgumentException("JWE has 5 parts");
        String header = new String(unb64(p[0]), StandardCharsets.UTF_8);
        if (!hasMember(header, "alg", "SM2") || !hasMember(header, "enc", "SM4-CBC-HMAC-SM3")) {
            throw new IllegalArgumentException("not an SM2 / SM4-CBC-HMAC-SM3 JWE");
        }
        byte[] cek = sm2Decrypt(d, unb64(p[1]));
        byte[] iv = unb64(p[2]);
        byte[] ct = unb64(p[3]);
        byte[] t = unb64(p[4]);
        if (cek.length != 32 || iv.length != 16 || t.length != 16) throw new IllegalArgumentException("bad lengths");
        byte[] expected = tag(Arrays.copyOfRange(cek, 0, 16), p[0].getBytes(StandardCharsets.US_ASCII), iv, ct);
        // The tag is checked (constant time) before anything is decrypted.
        if (!MessageDigest.isEqual(expected, t)) throw new SecurityException("tag mismatch");
        return sm4Cbc(false, Arrays.copyOfRange(cek, 16, 32), iv, ct);
    }

    // ------------------------------------------------------------------ attachment stream, from docs/protocol.md "Attachments"

    static final int RECORD = 262144;
    static final byte[] MAGIC = "TBA1".getBytes(StandardCharsets.US_ASCII);

    /** The associated data of record `index`: "TBA1" || u32 index || u8 last. */
    static byte[] attAad(int index, boolean last) {
        return ByteBuffer.allocate(9).put(MAGIC).putInt(index).put((byte) (last ? 1 : 0)).array();
    }

    /** "TBA1" || u32 n || key JWE || records (u8 last || u32 len || iv || ciphertext || tag), SM4-CBC-HMAC-SM3 under a fresh k. */
    static byte[] attWrite(byte[] point, String kid, byte[] file, String mediaType) throws Exception {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        String header = "{\"k\":\"" + b64(k) + "\",\"digestAlg\":\"SM3\",\"digest\":\"" + Hex.toHexString(sm3(file))
            + "\",\"size\":" + file.length + ",\"mediaType\":\"" + mediaType + "\"}";
        String jwe = jweEncrypt(point, "{\"alg\":\"SM2\",\"enc\":\"SM4-CBC-HMAC-SM3\",\"kid\":\"" + kid + "\",\"cty\":\"tongban+attachment-key\"}", header.getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(MAGIC);
        out.write(ByteBuffer.allocate(4).putInt(jwe.length()).array());
        out.write(jwe.getBytes(StandardCharsets.US_ASCII));
        int records = Math.max(1, (file.length + RECORD - 1) / RECORD);
        for (int i = 0; i < records; i++) {
            boolean last = i == records - 1;
            byte[] pt = Arrays.copyOfRange(file, i * RECORD, Math.min(file.length, (i + 1) * RECORD));
            byte[] iv = new byte[16];
            RANDOM.nextBytes(iv);
            byte[] ct = sm4Cbc(true, Arrays.copyOfRange(k, 16, 32), iv, pt);
            byte[] t = tag(Arrays.copyOfRange(k, 0, 16), attAad(i, last), iv, ct);
            out.write(last ? 1 : 0);
            out.write(ByteBuffer.allocate(4).putInt(iv.length + ct.length + t.length).array());
            out.write(iv);
            out.write(ct);
            out.write(t);
        }
        return out.toByteArray();
    }

    /** Reads a stream to the key d: the key header's JSON and the file, each record's tag and the file's SM3 digest checked. */
    static String attRead(byte[] d, byte[] stream) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(stream);
        byte[] magic = new byte[4];
        b.get(magic);
        if (!Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException("not TBA1");
        byte[] jwe = new byte[b.getInt()];
        b.get(jwe);
        byte[] header = jweDecrypt(d, new String(jwe, StandardCharsets.US_ASCII));
        String json = new String(header, StandardCharsets.UTF_8);
        Matcher km = Pattern.compile("\"k\"\\s*:\\s*\"([A-Za-z0-9_-]{43})\"").matcher(json);
        if (!km.find()) throw new IllegalArgumentException("no k");
        byte[] k = unb64(km.group(1));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        for (int i = 0; ; i++) {
            int flag = b.get() & 0xff;
            if (flag > 1) throw new IllegalArgumentException("bad flag");
            boolean last = flag == 1;
            byte[] rec = new byte[b.getInt()];
            b.get(rec);
            byte[] iv = Arrays.copyOfRange(rec, 0, 16);
            byte[] ct = Arrays.copyOfRange(rec, 16, rec.length - 16);
            byte[] t = Arrays.copyOfRange(rec, rec.length - 16, rec.length);
            if (!MessageDigest.isEqual(tag(Arrays.copyOfRange(k, 0, 16), attAad(i, last), iv, ct), t)) throw new SecurityException("record tag");
            byte[] pt = sm4Cbc(false, Arrays.copyOfRange(k, 16, 32), iv, ct);
            if (!last && pt.length != RECORD) throw new IllegalArgumentException("short record");
            file.write(pt);
            if (last) break;
        }
        if (b.hasRemaining()) throw new IllegalArgumentException("bytes after the last record");
        Matcher dm = Pattern.compile("\"digest\"\\s*:\\s*\"([0-9a-f]{64})\"").matcher(json);
        if (!dm.find() || !dm.group(1).equals(Hex.toHexString(sm3(file.toByteArray())))) throw new SecurityException("digest");
        return out(header) + "," + out(file.toByteArray());
    }

    // ------------------------------------------------------------------ request loop

    static byte[] hex(String s) {
        return s.equals("-") ? new byte[0] : Hex.decode(s);
    }

    static String out(byte[] b) {
        return b.length == 0 ? "-" : Hex.toHexString(b);
    }

    static String answer(String[] a) throws Exception {
        switch (a[0]) {
            case "sm3": return out(sm3(hex(a[1])));
            case "hmac": return out(hmacSm3(hex(a[1]), hex(a[2])));
            case "sm4enc": return out(sm4Cbc(true, hex(a[1]), hex(a[2]), hex(a[3])));
            case "sm4dec": return out(sm4Cbc(false, hex(a[1]), hex(a[2]), hex(a[3])));
            case "pub": return out(publicOf(hex(a[1])));
            case "sign": return out(sign(hex(a[1]), hex(a[2]), hex(a[3])));
            case "verify": return String.valueOf(verify(hex(a[1]), hex(a[2]), hex(a[3]), hex(a[4]), false));
            case "verifyder": return String.valueOf(verify(hex(a[1]), hex(a[2]), hex(a[3]), hex(a[4]), true));
            case "enc": return out(sm2Encrypt(hex(a[1]), hex(a[2]), SM2Engine.Mode.C1C3C2));
            case "enc-c1c2c3": return out(sm2Encrypt(hex(a[1]), hex(a[2]), SM2Engine.Mode.C1C2C3));
            case "dec": return out(sm2Decrypt(hex(a[1]), hex(a[2])));
            // seal dSender pubRecipient jwsHeaderHex jweHeaderHex payloadHex: sign, then encrypt (DESIGN §4)
            case "seal": {
                String jws = jwsSign(hex(a[1]), new String(hex(a[3]), StandardCharsets.UTF_8), hex(a[5]));
                return jweEncrypt(hex(a[2]), new String(hex(a[4]), StandardCharsets.UTF_8), jws.getBytes(StandardCharsets.US_ASCII));
            }
            // open dRecipient pubSender compactJwe: decrypt, then verify; the payload
            case "open": {
                String jws = new String(jweDecrypt(hex(a[1]), a[3]), StandardCharsets.US_ASCII);
                return out(jwsOpen(hex(a[2]), jws));
            }
            // attwrite pubRecipient kidHex fileHex mediaTypeHex: an attachment stream to the recipient
            case "attwrite": return out(attWrite(hex(a[1]), new String(hex(a[2]), StandardCharsets.US_ASCII), hex(a[3]), new String(hex(a[4]), StandardCharsets.US_ASCII)));
            // attread dRecipient streamHex: "<key header JSON hex>,<file hex>"
            case "attread": return attRead(hex(a[1]), hex(a[2]));
            default: throw new IllegalArgumentException("unknown op " + a[0]);
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            try {
                String result = answer(line.trim().split(" "));
                out.append("OK ").append(result).append('\n');
            } catch (Exception e) {
                out.append("ERR ").append(e.getClass().getSimpleName()).append('\n');
            }
        }
        System.out.print(out);
    }
}
