{ system }:
let
  stdenv = import ../stdenv { inherit system; };
  callPackage = file: args: import file ({ inherit stdenv fetchurl; } // self // args);
  fetchurl = { url, sha256 }: stdenv.fetchurl { inherit url sha256; inherit (self) curl; };
  self = {
    inherit stdenv;
    curl = callPackage ../tools/curl { };
    libfoo = callPackage ../development/libfoo { };
    hello = callPackage ../applications/hello { };
    bar = callPackage ../applications/bar { };
    broken = throw "broken is marked broken";
  };
in
self
