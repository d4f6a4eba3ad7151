{ stdenv }:

stdenv.mkDerivation {
  name = "zlib-1.2.11";
  outputs = [ "out" "dev" ];
  meta.description = "Lossless data-compression library";
}
