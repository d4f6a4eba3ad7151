{ stdenv, zlib, openssl }:

stdenv.mkDerivation {
  name = "python3-3.7.2";
  buildInputs = [ zlib openssl ];
  meta.description = "A high-level dynamically-typed programming language";
}
