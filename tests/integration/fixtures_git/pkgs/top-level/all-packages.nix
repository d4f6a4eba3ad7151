/* The top-level package set, read by Nix as a fixed point (pkgs/top-level/default.nix): every binding may name any
   other through `with pkgs;`, and `callPackage` fills a package's arguments from the set. */
{ lib, stdenv }:
self: pkgs:
with pkgs;
{
  inherit lib stdenv;

  # Nixpkgs' own top folder (NixOS reads `pkgs.path`).
  path = ../..;

  callPackage = lib.callPackageWith pkgs;

  inherit (lib) recurseIntoAttrs;

  fetchurl = { url, sha256 }: stdenv.fetchurl { inherit url sha256 curl; };

  ### DEVELOPMENT / LIBRARIES

  libfoo = callPackage ../development/libraries/libfoo { };

  libbar = callPackage ../development/libraries/libbar { };

  zlib = callPackage ../development/libraries/zlib { };

  openssl = callPackage ../development/libraries/openssl { };

  ### DEVELOPMENT / INTERPRETERS

  python3 = callPackage ../development/interpreters/python { };

  pyPackages = recurseIntoAttrs (import ./python-packages.nix {
    inherit pkgs stdenv lib;
    python = python3;
  });

  ### TOOLS

  curl = callPackage ../tools/networking/curl { };

  foo = callPackage ../tools/misc/foo { };

  fooWithX = foo.override { withX = true; };

  patched = callPackage ../tools/misc/patched { };

  cowsay = callPackage ../tools/misc/cowsay { };

  gnused = callPackage ../tools/text/gnused { };

  gawk = callPackage ../tools/text/gawk { };

  ### SHELLS

  bash = callPackage ../shells/bash { };

  ### APPLICATIONS

  hello = callPackage ../applications/misc/hello { };

  bar = callPackage ../applications/misc/bar { };

  baz = callPackage ../applications/misc/baz { };

  oldapp = callPackage ../applications/misc/oldapp { };

  vim = callPackage ../applications/editors/vim { };

  nano = callPackage ../applications/editors/nano { };

  editor = vim;

  git = callPackage ../applications/version-management/git { };

  ### MISC

  computed = callPackage ../misc/computed { };

  insecure = callPackage ../misc/insecure { };
}
