import ./make-test.nix ({ pkgs, ... }: {
  name = "foo";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.fooWithX ];
  };

  testScript = ''
    machine.succeed("foo --x")
  '';
})
