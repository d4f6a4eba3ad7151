{ stdenv, libfoo }:

stdenv.mkDerivation {
  name = "bar-3.1";
  buildInputs = [ libfoo.dev ];
  meta.description = "An application on libfoo";
}
