{ stdenv }:

stdenv.mkDerivation {
  name = "libfoo-1.0";
  outputs = [ "out" "dev" ];
  meta.description = "A library other packages take through callPackage";
}
