# mkDerivation over builtins.derivation, with meta.position as nixpkgs' stdenv sets it; fetchurl as a
# fixed-output derivation run by curl.
{ system, lib }:
rec {
  shell = "/bin/sh";

  mkDerivation = { name, buildCommand ? "touch $out", outputs ? [ "out" ], meta ? { }, ... }@args:
    let
      clean = removeAttrs args [ "meta" ];
      drv = derivation (clean // {
        inherit name system outputs;
        builder = shell;
        args = [ "-c" (buildCommand + "; for o in $outputs; do touch \${!o}; done") ];
      });
      pos = builtins.unsafeGetAttrPos "description" meta;
    in
    drv // {
      meta = meta // (if pos == null then { } else { position = pos.file + ":" + toString pos.line; });
    };

  fetchurl = { url, sha256, curl }:
    derivation {
      name = baseNameOf url;
      inherit system url curl;
      builder = shell;
      args = [ "-c" "$curl/bin/curl $url > $out" ];
      outputHashAlgo = "sha256";
      outputHashMode = "flat";
      outputHash = sha256;
    };
}
