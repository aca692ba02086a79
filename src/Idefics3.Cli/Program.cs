using Idefics3.Cli;

return await CliApp.RunAsync(args);
