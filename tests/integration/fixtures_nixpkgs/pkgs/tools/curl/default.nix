{ stdenv, ... }:
stdenv.mkDerivation {
  name = "curl-7.49.1";
  outputs = [ "out" "dev" ];
  meta = { description = "A command line tool for transferring files"; maintainers = [ "alice" ]; };
}
