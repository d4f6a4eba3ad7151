{ stdenv, libfoo, libbar }:

stdenv.mkDerivation {
  name = "baz-0.9";
  buildInputs = [ libfoo libbar ];
  meta.description = "An application on libfoo and libbar";
}
