{ stdenv }:

stdenv.mkDerivation {
  name = "cowsay-3.03";
  meta.description = "A program which generates ASCII pictures of a cow with a message";
}
