{ stdenv, zlib }:

stdenv.mkDerivation {
  name = "openssl-1.0.2q";
  buildInputs = [ zlib ];
  meta.description = "A cryptographic library that implements the SSL and TLS protocols";
}
