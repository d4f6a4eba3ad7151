# The Hydra jobs of a nixpkgs checkout, as a list of records in the shape nix-eval-jobs prints.
#
# Called by impact (impact/nix.py) as `(import-less) expression applied to an argument set`:
#   nixpkgs  – the checkout (a path, the only one on the restricted-eval search path)
#   systems  – the systems to evaluate, passed to release.nix as supportedSystems
#   nixos    – also evaluate nixos/release.nix (for systems' first entry only, like Hydra's nixos jobset)
#   nixosSystems – the systems given to nixos/release.nix
#
# Every job is walked under builtins.tryEval: a job that throws or fails an assert becomes an error record
# and the walk goes on, as on Hydra. Each record is traced ("impact-job") so the caller can count progress.
{ nixpkgs, systems, nixos ? false, nixosSystems ? systems }:
let
  inherit (builtins) tryEval isAttrs attrNames concatMap concatStringsSep functionArgs listToAttrs map;

  # Call a release file with only the arguments it declares.
  callRelease = file: args:
    let f = import file; in
    if builtins.isFunction f
    then f (builtins.intersectAttrs (functionArgs f) args)
    else f;

  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  maintainerName = m:
    if isAttrs m then (m.github or m.name or m.email or "?") else toString m;

  errorRecord = jobset: path: {
    attr = concatStringsSep "." path;
    attrPath = path;
    inherit jobset;
    error = "evaluation failed (throw or assert)";
  };

  jobRecord = jobset: path: d:
    let
      outputs = d.outputs or [ "out" ];
      meta = d.meta or { };
      record = {
        attr = concatStringsSep "." path;
        attrPath = path;
        inherit jobset;
        name = d.name;
        system = d.system;
        drvPath = d.drvPath;
        outputs = listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) outputs);
        meta = {
          position = meta.position or null;
          maintainers = map maintainerName (let m = meta.maintainers or [ ]; in if builtins.isList m then m else [ m ]);
        };
      };
      forced = tryEval (builtins.deepSeq record record);
    in
    if forced.success then forced.value else errorRecord jobset path;

  walk = jobset: path: value:
    let forced = tryEval value; in
    if !forced.success then [ (builtins.trace "impact-job" (errorRecord jobset path)) ]
    else
      let v = forced.value; in
      if isDerivation v then [ (builtins.trace "impact-job" (jobRecord jobset path v)) ]
      else if isAttrs v then concatMap (n: walk jobset (path ++ [ n ]) v.${n}) (attrNames v)
      else [ ];

  nixpkgsJobs = callRelease (nixpkgs + "/pkgs/top-level/release.nix") {
    supportedSystems = systems;
    nixpkgs = { outPath = nixpkgs; revCount = 1; shortRev = "0000000"; };
  };
  nixosJobs = callRelease (nixpkgs + "/nixos/release.nix") {
    supportedSystems = nixosSystems;
    nixpkgs = { outPath = nixpkgs; revCount = 1; shortRev = "0000000"; };
  };
in
walk "nixpkgs" [ ] nixpkgsJobs ++ (if nixos then walk "nixos" [ ] nixosJobs else [ ])
