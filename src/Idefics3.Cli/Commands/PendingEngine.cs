using System.CommandLine;

namespace Idefics3.Cli.Commands;

// TEMPORARY: compiled only until Idefics3Engine is merged from main.
internal static class AskCommand
{
    public static Command Create()
    {
        var command = new Command("ask", "Ask one question (not available in this build: the engine is missing).");
        command.Arguments.Add(new Argument<string>("prompt"));
        new GenerationArguments().AddTo(command);
        command.SetAction((Func<ParseResult, int>)(_ => throw new NotSupportedException("This build has no engine.")));
        return command;
    }
}

internal static class ChatCommand
{
    public static Command Create()
    {
        var command = new Command("chat", "Chat (not available in this build: the engine is missing).");
        new GenerationArguments().AddTo(command);
        command.SetAction((Func<ParseResult, int>)(_ => throw new NotSupportedException("This build has no engine.")));
        return command;
    }
}
