import ./make-test.nix ({ pkgs, ... }: {
  name = "kernel";

  machine = { pkgs, ... }: {
    boot.kernelParams = [ "quiet" ];
  };

  testScript = ''
    machine.succeed("grep quiet /proc/cmdline")
  '';
})
