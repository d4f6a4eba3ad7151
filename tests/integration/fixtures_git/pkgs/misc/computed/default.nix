# Reads its settings through a path computed from strings at evaluation time (as `import (/. + builtins.getEnv "X")`
# would): no path literal in the tree names settings.nix.
{ stdenv }:

let
  folder = builtins.dirOf (toString ./default.nix);
  file = builtins.concatStringsSep "" [ "set" "tings" ];
  settings = import (builtins.toPath "${folder}/${file}.nix");
in
stdenv.mkDerivation {
  name = "computed-${settings.version}";
  inherit (settings) configureFlags;
  meta.description = "A package whose settings are imported through a computed path";
}
