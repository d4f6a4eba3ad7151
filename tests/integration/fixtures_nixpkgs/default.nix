# A tiny nixpkgs-like package set for impact's end-to-end tests: builds nothing, only instantiates.
{ system ? builtins.currentSystem }:
import ./pkgs/top-level/all-packages.nix { inherit system; }
