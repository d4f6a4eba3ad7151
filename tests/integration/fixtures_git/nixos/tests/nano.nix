import ./make-test.nix ({ pkgs, ... }: {
  name = "nano";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.nano ];
  };

  testScript = ''
    machine.succeed("nano --version")
  '';
})
