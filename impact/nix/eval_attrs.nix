# The jobs of some attributes of a Nix file, in nix-eval-jobs' shape, for `impact.nix.Nix.eval_attrs`
# (run with nix-instantiate --eval --strict --json --read-write-mode, so each job's .drv is written to the
# store, as nix-eval-jobs does).
#
#   file          absolute path of a Nix file: an attribute set, or a function called with `argsJson`
#   argsJson      JSON object of arguments for that function
#   attrsJson     JSON list of attribute paths to list (each a derivation or a set to walk), or null for all
#   forceRecurse  walk every attribute set (as Hydra walks a release.nix), not only those with
#                 `recurseForDerivations = true`
#
# Returns a list of { attr, attrPath, name, system, drvPath, outputs, meta } or { attr, attrPath, error }.
{ file, argsJson ? "{}", attrsJson ? "null", forceRecurse ? false }:
let
  imported = import file;
  root = if builtins.isFunction imported then imported (builtins.fromJSON argsJson) else imported;
  wanted = builtins.fromJSON attrsJson;

  isDerivation = v: builtins.isAttrs v && (v.type or null) == "derivation";
  concatMap = f: l: builtins.concatLists (map f l);
  join = builtins.concatStringsSep ".";

  maintainer = m:
    if builtins.isAttrs m
    then builtins.intersectAttrs { name = null; github = null; email = null; } m
    else m;
  metaOf = drv:
    let m = drv.meta or { }; in
    (if m ? position then { position = m.position; } else { })
    // (if m ? description then { description = m.description; } else { })
    // (if m ? maintainers then { maintainers = map maintainer m.maintainers; } else { });

  failed = path: [{ attr = join path; attrPath = path; error = "evaluation failed (throw or assert)"; }];

  job = path: drv:
    let
      outputNames = drv.outputs or [ "out" ];
      line = {
        attr = join path;
        attrPath = path;
        name = drv.name;
        system = drv.system;
        drvPath = drv.drvPath;
        outputs = builtins.listToAttrs (map (o: { name = o; value = drv.${o}.outPath; }) outputNames);
        meta = metaOf drv;
      };
      tried = builtins.tryEval (builtins.deepSeq line line);
    in if tried.success then [ tried.value ] else failed path;

  walk = top: path: value:
    let tried = builtins.tryEval value; in
    if !tried.success then failed path
    else if isDerivation tried.value then job path tried.value
    else if builtins.isAttrs tried.value && (top || forceRecurse || (tried.value.recurseForDerivations or false))
    then concatMap (n: walk false (path ++ [ n ]) tried.value.${n})
      (builtins.filter (n: n != "recurseForDerivations") (builtins.attrNames tried.value))
    else [ ];

  at = path: builtins.foldl' (v: n: v.${n}) root path;
in
if wanted == null then walk true [ ] root
else concatMap (path: walk true path (at path)) wanted
