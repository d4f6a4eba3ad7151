import ./make-test.nix ({ pkgs, ... }: {
  name = "patched";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.patched ];
  };

  testScript = ''
    machine.succeed("patched")
  '';
})
