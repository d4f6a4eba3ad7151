{ stdenv }:

stdenv.mkDerivation {
  name = "bash-4.4-p23";
  meta.description = "GNU Bourne-Again Shell, the de facto standard shell on Linux";
}
