{ stdenv }:

stdenv.mkDerivation {
  name = "gawk-4.2.1";
  # A number, which the derivation holds as its text.
  stackSize = 8;
  meta.description = "GNU implementation of the Awk programming language";
}
