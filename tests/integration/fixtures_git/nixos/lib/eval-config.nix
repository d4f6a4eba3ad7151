# A NixOS system: every module of module-list.nix and the given ones, merged (lists concatenated, sets merged,
# the last value of anything else kept) — a much smaller module system than NixOS's, imported the same way.
{ system, pkgs ? import ../.. { inherit system; }, modules }:

let
  lib = pkgs.lib;

  load = m: if builtins.typeOf m == "path" then import m else m;

  mergeValues = a: b:
    if builtins.isList a then a ++ b
    else if builtins.isAttrs a && !(lib.isDerivation a) then mergeSets a b
    else b;

  mergeSets = a: b: a // builtins.mapAttrs (n: v: if a ? ${n} then mergeValues a.${n} v else v) b;

  config = builtins.foldl' mergeSets { } (map
    (m: let f = load m; in if builtins.isFunction f then f { inherit config pkgs lib; } else f)
    (import ../modules/module-list.nix ++ modules));
in
{
  inherit config pkgs;
}
