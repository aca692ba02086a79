using Idefics3.Runtime;

// Placeholder until the command-line issue lands: checks that the native runtime works and says what is missing.
TorchRuntime.EnsureLoaded();
Console.Error.WriteLine("idefics3: the 'ask', 'chat', 'download', 'info' and 'bench' commands are not implemented yet.");
Console.Error.WriteLine("TorchSharp runtime: loaded (CUDA available: " + TorchRuntime.IsCudaAvailable + ").");
return 2;
