# The Hydra jobs of a nixpkgs checkout, as a list of records in the shape nix-eval-jobs prints.
#
# Called by impact (impact/nix.py) as `(import-less) expression applied to an argument set`:
#   nixpkgs  – the checkout (a path, the only one on the restricted-eval search path)
#   systems  – the systems to evaluate, passed to release.nix as supportedSystems
#   nixos    – also evaluate nixos/release.nix (for systems' first entry only, like Hydra's nixos jobset)
#   nixosSystems – the systems given to nixos/release.nix
#   chunks, chunk – evaluate only the jobs whose chunk key falls in slice `chunk` of `chunks` (see below)
#   skip     – top-level attribute names left out of both jobsets; a name ending in `*` is a prefix
#   only     – null, or a list of { jobset, path } naming the jobs (or sets) to evaluate, nothing else
#   skipPaths – a list of { jobset, path } left out (jobs found to stop Nix with an error tryEval cannot catch)
#   catch    – walk under builtins.tryEval (false: let the first error stop Nix, to read its message)
#
# Every job is walked under builtins.tryEval: a job that throws or fails an assert becomes an error record
# and the walk goes on, as on Hydra. Each record is traced ("impact-job") so the caller can count progress.
#
# Chunks: a job's key is its jobset and the first two names of its attribute path (`nixpkgs.qemu.x86_64-linux`,
# `nixos.tests.firefox`); the key's chunk is its sha256 modulo `chunks`. It depends on the key alone, so a
# slice is stable whatever else the tree holds, and thousands of keys spread evenly. Only sets on the way to a
# key of this chunk are forced; the jobs of other chunks are never evaluated.
{ nixpkgs, systems, nixos ? false, nixosSystems ? systems, chunks ? 1, chunk ? 0, skip ? [ ], only ? null
, skipPaths ? [ ], catch ? true }:
let
  inherit (builtins) tryEval isAttrs attrNames concatMap concatStringsSep functionArgs listToAttrs map filter;

  # Call a release file with only the arguments it declares.
  callRelease = file: args:
    let f = import file; in
    if builtins.isFunction f
    then f (builtins.intersectAttrs (functionArgs f) args)
    else f;

  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  # meta is free-form: maintainers may be nested lists (`[ a ] ++ [ teams.x ]` written as `[ a teams.x.members ]`),
  # sets or strings. Nothing here may fail on a shape, since a failure here could not be caught by tryEval.
  flatten = l: concatMap (x: if builtins.isList x then flatten x else [ x ]) l;
  nameOf = x: if builtins.isString x then x else "?";
  maintainerName = m:
    if isAttrs m then nameOf (m.github or m.name or m.email or "?") else nameOf m;

  hexDigits = listToAttrs (builtins.genList (i: { name = builtins.substring i 1 "0123456789abcdef"; value = i; }) 16);
  # The first 7 hex digits of the key's sha256, as a number (fits any Nix integer).
  keyNumber = key:
    let h = builtins.hashString "sha256" key; in
    builtins.foldl' (n: i: n * 16 + hexDigits.${builtins.substring i 1 h}) 0 (builtins.genList (i: i) 7);
  inChunk = jobset: path:
    chunks <= 1 || (let n = keyNumber (concatStringsSep "." ([ jobset ] ++ path)); in n - (n / chunks) * chunks == chunk);

  skipped = name: builtins.any
    (s: if builtins.substring (builtins.stringLength s - 1) 1 s == "*"
        then builtins.substring 0 (builtins.stringLength s - 1) s == builtins.substring 0 (builtins.stringLength s - 1) name
        else s == name)
    skip;

  skippedPaths = listToAttrs (map (o: { name = concatStringsSep "." ([ o.jobset ] ++ o.path); value = true; }) skipPaths);
  isSkipped = jobset: path: skipPaths != [ ] && skippedPaths ? ${concatStringsSep "." ([ jobset ] ++ path)};
  # Traced before a job or set is forced, so the last such line names what an uncatchable error stopped at.
  traced = what: jobset: path: builtins.trace "impact-${what} ${builtins.toJSON { inherit jobset path; }}";

  tryOrFail = v: if catch then tryEval v else { success = true; value = v; };

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
          position = let p = meta.position or null; in if builtins.isString p then p else null;
          maintainers = map maintainerName (let m = meta.maintainers or [ ]; in if builtins.isList m then flatten m else [ m ]);
        };
      };
      forced = tryOrFail (builtins.deepSeq record record);
    in
    if forced.success then forced.value else errorRecord jobset path;

  # A path of one name is decided at depth 2 (its key is the first two names); deeper paths are decided.
  walk = jobset: path: value:
    let
      depth = builtins.length path;
      wanted = depth != 2 || inChunk jobset path;
      forced = traced "walk" jobset path (tryOrFail value);
      v = forced.value;
    in
    if !wanted || isSkipped jobset path then [ ]
    else if !forced.success then (if depth < 2 && !inChunk jobset path then [ ] else [ (traced "job" jobset path (errorRecord jobset path)) ])
    else if isDerivation v then (if depth < 2 && !inChunk jobset path then [ ] else [ (traced "job" jobset path (jobRecord jobset path v)) ])
    else if isAttrs v then concatMap (n: walk jobset (path ++ [ n ]) v.${n}) (filter (n: depth > 0 || !skipped n) (attrNames v))
    else [ ];

  # Only the named jobs: follow each path (the first error stops Nix when `catch` is false). A path that names
  # nothing gives no job: each step is forced under tryEval and checked with hasAttr, so a missing attribute
  # (an attribute added or removed by a change) is not an error.
  lookup = root: path: builtins.foldl'
    (acc: n:
      if !acc.found then acc
      else let t = tryOrFail acc.value; in
        if t.success && isAttrs t.value && builtins.hasAttr n t.value
        then { found = true; value = t.value.${n}; }
        else if t.success then { found = false; value = null; }
        else { found = true; value = throw "impact: evaluation failed on the way to a job"; })
    { found = true; value = root; } path;
  # A name deeper than a chunk key belongs to its key's chunk (the walk decides shallower ones itself).
  onlyInChunk = o: builtins.length o.path <= 2 || inChunk o.jobset [ (builtins.elemAt o.path 0) (builtins.elemAt o.path 1) ];
  walkOnly = jobset: root: concatMap
    (o: let at = lookup root o.path; in if at.found then walk jobset o.path at.value else [ ])
    (filter (o: o.jobset == jobset && onlyInChunk o) only);

  # The revision Hydra would pass; constant, as in the shipped snapshots (NixOS version `…pre1.snapshot`), so
  # that evaluations of the same tree agree with them and with each other whatever the commit.
  source = { outPath = nixpkgs; revCount = 1; shortRev = "snapshot"; };
  nixpkgsJobs = callRelease (nixpkgs + "/pkgs/top-level/release.nix") { supportedSystems = systems; nixpkgs = source; };
  nixosJobs = callRelease (nixpkgs + "/nixos/release.nix") { supportedSystems = nixosSystems; nixpkgs = source; };
  jobsOf = jobset: root: if only == null then walk jobset [ ] root else walkOnly jobset root;
in
jobsOf "nixpkgs" nixpkgsJobs ++ (if nixos then jobsOf "nixos" nixosJobs else [ ])
