import ./make-test.nix ({ pkgs, ... }: {
  name = "bash";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.bash ];
  };

  testScript = ''
    machine.succeed("bash --version")
  '';
})
