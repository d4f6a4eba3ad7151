import ./make-test.nix ({ pkgs, ... }: {
  name = "git";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.git ];
  };

  testScript = ''
    machine.succeed("git --version")
  '';
})
