#!/usr/bin/env bash
# Makes certs-example/: the sample keys and certificates of the Tongban demo, with the OpenSSL 3
# CLI only, so that a reader sees exactly how each file is made.
#
#   SAMPLES. Never use these keys, secrets or certificates outside the demo and the tests.
#
# Layout (see README.md):
#   ca/                    two small sample CAs: SM2 with SM3 signatures (national), P-256 with
#                          SHA-256 (international); their keys are here only because they are samples
#   gateway/               the gateway's keys as GatewayKeyring.load reads them (GATEWAY_KEY_FILES in
#                          src/crypto/keyring.ts), their public halves and certificates, token.key and
#                          store.key (32 random bytes, base64), partners/TAX_231221.secret (HMAC
#                          secret of the legacy tax system)
#   participants/<id>/     per demo participant (':' in the id written as '_'): signing and
#                          encryption keys of both suites, public halves and certificates
#
# Usage: certs-example/make.sh        (rewrites everything above; takes a few seconds)
set -euo pipefail
cd "$(dirname "$0")"

SM2_ID=1234567812345678 # default SM2 user ID (GB/T 32918.2), used for every SM2 signature here
CA_DAYS=3650
DAYS=1095

command -v openssl >/dev/null || { echo "make.sh: the openssl CLI (OpenSSL 3) is required" >&2; exit 1; }
case "$(openssl version)" in OpenSSL\ 3.*) ;; *) echo "make.sh: OpenSSL 3 is required, found $(openssl version)" >&2; exit 1 ;; esac

rm -rf ca gateway participants
mkdir -p ca gateway/partners participants
umask 077 # private keys and secrets: owner only

# X.509 extensions for the CAs and the two kinds of end-entity certificate. The participant id
# goes into the subjectAltName as a URI, where software can find it without parsing the DN.
EXT=$(mktemp)
trap 'rm -f "$EXT" ca/*.srl ./*.csr' EXIT
cat >"$EXT" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[sign]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:tongban:${ENV::TB_SUBJECT}
[enc]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment, dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:tongban:${ENV::TB_SUBJECT}
[agree]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = URI:urn:tongban:${ENV::TB_SUBJECT}
CNF
export TB_SUBJECT=ca

# key files: NAME.key.pem (PKCS#8) and NAME.pub.pem (SubjectPublicKeyInfo)
sm2_key() { openssl genpkey -algorithm SM2 -out "$1.key.pem"; }
p256_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1.key.pem"; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -quiet -out "$1.key.pem"; }
pub_of() { openssl pkey -in "$1.key.pem" -pubout -out "$1.pub.pem"; chmod 644 "$1.pub.pem"; }

# issue KEYBASE SUBJECT EXT-SECTION: NAME.crt.pem signed by the CA of the key's suite.
# SM2: the request and the certificate are signed with SM2-with-SM3 under the default user ID,
# and the CA verifies the request's signature with that same ID (-vfyopt).
issue_sm2() {
  openssl req -new -utf8 -key "$1.key.pem" -sm3 -sigopt "distid:$SM2_ID" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca/sm2-root.crt.pem -CAkey ca/sm2-root.key.pem -CAcreateserial \
    -sm3 -sigopt "distid:$SM2_ID" -vfyopt "distid:$SM2_ID" -days "$DAYS" -extfile "$EXT" -extensions "$3" -out "$1.crt.pem" 2>/dev/null
  rm -f "$1.csr"; chmod 644 "$1.crt.pem"
}
issue_intl() {
  openssl req -new -utf8 -key "$1.key.pem" -sha256 -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca/p256-root.crt.pem -CAkey ca/p256-root.key.pem -CAcreateserial \
    -sha256 -days "$DAYS" -extfile "$EXT" -extensions "$3" -out "$1.crt.pem" 2>/dev/null
  rm -f "$1.csr"; chmod 644 "$1.crt.pem"
}

echo "== sample CAs"
sm2_key ca/sm2-root
openssl req -new -x509 -utf8 -key ca/sm2-root.key.pem -sm3 -sigopt "distid:$SM2_ID" -days "$CA_DAYS" \
  -subj "/C=CN/O=通办示例 (Tongban sample)/CN=Tongban Sample SM2 Root CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca/sm2-root.crt.pem
p256_key ca/p256-root
openssl req -new -x509 -utf8 -key ca/p256-root.key.pem -sha256 -days "$CA_DAYS" \
  -subj "/C=CN/O=通办示例 (Tongban sample)/CN=Tongban Sample P-256 Root CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca/p256-root.crt.pem
chmod 644 ca/*.crt.pem

# party DIR URN ORG CN RSA-BITS: signing keys of both suites, and encryption keys unless RSA-BITS is 0
party() {
  local dir=$1 org=$3 cn=$4 rsa_bits=$5
  local subj="/C=CN/ST=黑龙江省/L=绥化市/O=$org/CN=$cn"
  export TB_SUBJECT=$2
  mkdir -p "$dir"
  sm2_key "$dir/sign-sm2"; pub_of "$dir/sign-sm2"; issue_sm2 "$dir/sign-sm2" "$subj" sign
  p256_key "$dir/sign-es256"; pub_of "$dir/sign-es256"; issue_intl "$dir/sign-es256" "$subj" sign
  if [ "$rsa_bits" != 0 ]; then
    sm2_key "$dir/enc-sm2"; pub_of "$dir/enc-sm2"; issue_sm2 "$dir/enc-sm2" "$subj" enc
    rsa_key "$dir/enc-rsa" "$rsa_bits"; pub_of "$dir/enc-rsa"; issue_intl "$dir/enc-rsa" "$subj" enc
  fi
}
# participant ID ORG [RSA-BITS]: participants/<ID with ':' as '_'>/
participant() { party "participants/${1//:/_}" "participant:$1" "$2" "$1" "${3:-2048}"; }

echo "== gateway"
# The gateway's RSA key has 3072 bits, as GatewayKeyring.generate makes it; it also has a P-256
# key for ECDH-ES+A256KW.
GW_ORG="通办数据交换网关 (Tongban gateway)"
party gateway gateway "$GW_ORG" gateway 3072
p256_key gateway/enc-ec; pub_of gateway/enc-ec
issue_intl gateway/enc-ec "/C=CN/ST=黑龙江省/L=绥化市/O=$GW_ORG/CN=gateway" agree
openssl rand -base64 32 >gateway/token.key
openssl rand -base64 32 >gateway/store.key
openssl rand -base64 32 >gateway/partners/TAX_231221.secret

echo "== participants"
participant REG:231202 "绥化市北林区不动产登记中心"
participant REG:231221 "望奎县不动产登记中心"
participant TAX:231202 "国家税务总局绥化市北林区税务局"
participant TAX:231221 "国家税务总局望奎县税务局"
participant HOUSING:231200 "绥化市住房和城乡建设局"
participant BANK:91230100MA1B2C3D49:suihua "示例银行股份有限公司绥化分行"
participant FUND:12231200MB07654323 "绥化市住房公积金管理中心"
participant COURT:11231202MB00123459 "绥化市北林区人民法院"
participant UTILITY:91231200MA1W00001Q:water "绥化市供水有限公司"
participant UTILITY:91231200MA1P00002Y:power "国网黑龙江省电力有限公司绥化供电公司"
participant ENTERPRISE:91231202MA1K0D0W06 "绥化市北林区示范房地产开发有限公司"
participant OPS:demo-operator "通办数据交换网关运维 (operator)" 0 # signing keys only

echo "== check"
for crt in gateway/*.crt.pem participants/*/*.crt.pem; do
  case "$crt" in
    *sm2*) openssl verify -CAfile ca/sm2-root.crt.pem -vfyopt "distid:$SM2_ID" "$crt" >/dev/null ;;
    *) openssl verify -CAfile ca/p256-root.crt.pem "$crt" >/dev/null ;;
  esac
done
echo "certs-example: $(find . -name '*.key.pem' | wc -l) keys, $(find . -name '*.crt.pem' | wc -l) certificates; all certificates verify"
