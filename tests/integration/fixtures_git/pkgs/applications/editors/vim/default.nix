{ stdenv }:

stdenv.mkDerivation {
  name = "vim-8.1.0884";
  meta.description = "The most popular clone of the VI editor";
}
