{ stdenv, gnused }:

stdenv.mkDerivation {
  name = "patched-2.0";
  patches = [ ./fix.patch ];
  nativeBuildInputs = [ gnused ];
  meta.description = "A tool built with a patch of its own";
}
