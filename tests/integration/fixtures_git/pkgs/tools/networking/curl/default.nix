{ stdenv, openssl, zlib }:

stdenv.mkDerivation {
  name = "curl-7.64.0";
  outputs = [ "bin" "out" "dev" ];
  buildInputs = [ openssl zlib ];
  meta.description = "A command line tool for transferring files with URL syntax";
}
