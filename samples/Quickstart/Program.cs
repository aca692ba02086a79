// Placeholder: the quickstart sample (IChatClient with two images) lands with the samples issue.
Console.WriteLine("The Quickstart sample is not written yet.");
