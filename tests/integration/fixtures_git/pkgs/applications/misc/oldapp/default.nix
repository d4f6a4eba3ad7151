{ stdenv }:

stdenv.mkDerivation {
  name = "oldapp-0.1";
  meta.description = "An application about to be removed";
}
