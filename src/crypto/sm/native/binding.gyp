{
  "targets": [
    {
      "target_name": "tongban_sm2",
      "sources": ["sm2.c", "sm2_core.c", "sm2_p256.c"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_API_COMPAT=0x10100000L", "OPENSSL_SUPPRESS_DEPRECATED"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "xcode_settings": { "OTHER_CFLAGS": ["-Wno-deprecated-declarations"] },
      # No libcrypto is linked: the OpenSSL symbols are resolved from the node binary
      # that loads the addon, so the addon runs exactly the OpenSSL Node ships.
      "libraries": []
    }
  ]
}
