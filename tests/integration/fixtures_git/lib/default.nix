# The few functions of nixpkgs' lib the fixture uses, with their nixpkgs names.
let
  lib = rec {
    fix = f: let x = f x; in x;
    isDerivation = v: builtins.isAttrs v && (v.type or null) == "derivation";
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    getAttrFromPath = path: set: builtins.foldl' (s: n: s.${n}) set path;
    recurseIntoAttrs = s: s // { recurseForDerivations = true; };
    optional = cond: x: if cond then [ x ] else [ ];
    optionalString = cond: s: if cond then s else "";

    # `f` called with `origArgs`, and `.override` to call it again with some arguments replaced.
    makeOverridable = f: origArgs:
      let result = f origArgs; in
      if builtins.isAttrs result
      then result // { override = newArgs: makeOverridable f (origArgs // newArgs); }
      else result;

    # Call the function of a file with the arguments it declares, taken from `autoArgs`, and `args` over them.
    callPackageWith = autoArgs: fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
        auto = builtins.intersectAttrs (builtins.functionArgs f) autoArgs;
      in
      makeOverridable f (auto // args);
  };
in
lib
