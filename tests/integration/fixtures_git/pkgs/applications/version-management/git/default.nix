{ stdenv, curl, openssl, zlib, python3 }:

stdenv.mkDerivation {
  name = "git-2.20.1";
  buildInputs = [ curl openssl zlib python3 ];
  meta.description = "Distributed version control system";
}
