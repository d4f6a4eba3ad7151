{ stdenv, ... }:
stdenv.mkDerivation {
  name = "libfoo-1.0";
  outputs = [ "out" "dev" ];
  meta = { description = "A library everything uses"; maintainers = [ { github = "bob"; name = "Bob"; } ]; };
}
