# A small nixpkgs-like tree for `impact estimate --git` with real Nix: shaped like nixpkgs where the method reads it
# (a `with pkgs;` fixed point of `callPackage` bindings, a second package set under a prefix, Hydra's two release
# files, NixOS modules and tests), built over `builtins.derivation` so that it instantiates offline in seconds.
{ system ? builtins.currentSystem }:
import ./pkgs/top-level { inherit system; }
