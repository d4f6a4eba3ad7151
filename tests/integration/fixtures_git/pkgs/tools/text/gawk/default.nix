{ stdenv }:

stdenv.mkDerivation {
  name = "gawk-4.2.1";
  meta.description = "GNU implementation of the Awk programming language";
}
