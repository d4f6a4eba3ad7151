{ stdenv }:

stdenv.mkDerivation {
  name = "gnused-4.7";
  meta.description = "GNU sed, a batch stream editor";
}
