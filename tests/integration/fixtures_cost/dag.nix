# Four derivations that only sleep, for checking impact's farm model against Nix's own scheduler:
#
#   a (2 s) ──> c (2 s) ──┐
#   b (2 s) ──────────────┴──> d (1 s)
#
# `salt` makes every run a fresh set of derivations, so nothing is already built.
{ salt }:
let
  step = name: seconds: deps: builtins.derivation {
    inherit name salt deps;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "set -e; /bin/sleep ${toString seconds}; echo ${name} > $out" ];
  };
  a = step "a" 2 [ ];
  b = step "b" 2 [ ];
  c = step "c" 2 [ a ];
in step "d" 1 [ b c ]
