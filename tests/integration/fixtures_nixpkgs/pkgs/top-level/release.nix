# Hydra's nixpkgs jobset: every package for every supported system, as `<attr>.<system>`.
{ supportedSystems ? [ "x86_64-linux" "i686-linux" ] }:
let
  pkgsFor = system: import ../.. { inherit system; };
  forAll = attr: builtins.listToAttrs (map (system: { name = system; value = (pkgsFor system).${attr}; }) supportedSystems);
in
{
  curl = forAll "curl";
  libfoo = forAll "libfoo";
  hello = forAll "hello";
  bar = forAll "bar";
  broken = forAll "broken";
}
