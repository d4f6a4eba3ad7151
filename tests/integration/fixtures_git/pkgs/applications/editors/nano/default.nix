{ stdenv }:

stdenv.mkDerivation {
  name = "nano-3.2";
  meta.description = "A small, user-friendly console text editor";
}
