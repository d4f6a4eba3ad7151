{ stdenv, libfoo }:

stdenv.mkDerivation {
  name = "libbar-2.3";
  buildInputs = [ libfoo.dev ];
  meta.description = "A library on libfoo";
}
