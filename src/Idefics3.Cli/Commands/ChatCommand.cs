using System.CommandLine;
using System.Text;
using Idefics3.Cli.Input;
using Idefics3.Cli.Output;
using Idefics3.Generation;
using Idefics3.Processing;
using Microsoft.Extensions.Logging;

namespace Idefics3.Cli.Commands;

/// <summary>
/// <c>idefics3 chat</c>: a multi-turn conversation read line by line from stdin. Answers stay in the history, so the
/// engine's prompt cache makes follow-up questions cheap.
/// </summary>
internal static class ChatCommand
{
    private const string Help =
        "Type a message and press Enter. Commands: /image <path-or-url> attaches an image to your next message, " +
        "/reset clears the conversation, /quit (or end of input) exits.";

    public static Command Create()
    {
        var arguments = new GenerationArguments();
        var command = new Command("chat", "Chat with the model, one message per line on stdin (/image <path-or-url>, /reset, /quit).");
        arguments.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            GenerationOptions generation = arguments.GenerationOptions(parse, topLogProbs: null);
            ProcessorOptions? processing = arguments.ProcessorOptions(parse);
            bool quiet = parse.GetValue(GlobalOptions.Quiet);
            bool verbose = parse.GetValue(GlobalOptions.Verbose);
            bool interactive = !Console.IsInputRedirected;
            using ILoggerFactory loggerFactory = CliLogging.Create(verbose);
            await using Idefics3Engine engine = await EngineLoader.LoadAsync(parse, arguments, ProgressDisplay.Create(quiet), loggerFactory, cancellationToken);
            using var images = new ImageSource();
            var session = new ChatSession(arguments.StartConversation(parse));
            if (interactive)
            {
                Console.Error.WriteLine(Help);
            }

            while (true)
            {
                if (interactive)
                {
                    Console.Error.Write("> ");
                }

                // Console reads do not observe cancellation: wait for the line on the side, so Ctrl+C ends the chat at once.
                string? line = await Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);
                if (line is null)
                {
                    return ExitCodes.Success;
                }

                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith('/'))
                {
                    if (!await HandleCommandAsync(line, session, images, cancellationToken))
                    {
                        return ExitCodes.Success;
                    }

                    continue;
                }

                List<PromptMessage> conversation = session.WithUserTurn(line);
                var answer = new StringBuilder();
                GenerationUpdate? last;
                try
                {
                    last = await AskCommand.StreamAnswerAsync(engine, conversation, generation, processing, Console.Out, cancellationToken, answer);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && IsRecoverable(ex))
                {
                    // The turn is dropped (images included); the conversation goes on.
                    session.DropPendingImages();
                    CliApp.ReportError(ex, verbose, cancelled: false);
                    continue;
                }

                session.Commit(conversation, answer.ToString());
                if (verbose && last is not null)
                {
                    AskCommand.WriteStats(last);
                }
            }
        });
        return command;
    }

    /// <summary>Runs a /command; returns false when the chat should end.</summary>
    private static async Task<bool> HandleCommandAsync(string line, ChatSession session, ImageSource images, CancellationToken cancellationToken)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string name = (space < 0 ? line : line[..space]).ToLowerInvariant();
        string argument = space < 0 ? string.Empty : line[(space + 1)..].Trim();
        switch (name)
        {
            case "/quit" or "/exit" or "/q":
                return false;
            case "/reset" or "/clear":
                session.Reset();
                Console.Error.WriteLine("(conversation cleared)");
                return true;
            case "/image" or "/img":
                if (argument.Length == 0)
                {
                    Console.Error.WriteLine("usage: /image <path-or-url>");
                    return true;
                }

                try
                {
                    PromptImage image = await images.LoadAsync(argument.Trim('"'), cancellationToken);
                    session.Attach(image);
                    Console.Error.WriteLine(GenerationArguments.Invariant($"(image attached: {Units.Bytes(image.Data.Length)}; {session.PendingImageCount} for the next message)"));
                }
                catch (Exception ex) when (ex is not OperationCanceledException && IsRecoverable(ex))
                {
                    CliApp.ReportError(ex, verbose: false, cancelled: false);
                }

                return true;
            case "/help" or "/?":
                Console.Error.WriteLine(Help);
                return true;
            default:
                Console.Error.WriteLine($"Unknown command '{name}'. {Help}");
                return true;
        }
    }

    /// <summary>Errors that end one turn, not the chat: a bad image, an over-long conversation, a failed download.</summary>
    private static bool IsRecoverable(Exception ex) =>
        ex is UsageException or IOException or HttpRequestException or TimeoutException or NotSupportedException or ContextWindowExceededException
            or Imaging.ImageDecodeException or InvalidDataException or ArgumentException;

    /// <summary>The conversation so far and the images waiting for the next user message.</summary>
    private sealed class ChatSession(List<PromptMessage> preamble)
    {
        private readonly List<PromptMessage> _preamble = preamble;
        private readonly List<PromptMessage> _history = [.. preamble];
        private readonly List<PromptContent> _pendingImages = [];

        public int PendingImageCount => _pendingImages.Count;

        public void Attach(PromptImage image) => _pendingImages.Add(image);

        public void DropPendingImages() => _pendingImages.Clear();

        public void Reset()
        {
            _history.Clear();
            _history.AddRange(_preamble);
            _pendingImages.Clear();
        }

        /// <summary>The history plus a new user message (pending images first, then the text).</summary>
        public List<PromptMessage> WithUserTurn(string text) =>
            [.. _history, new PromptMessage("user", [.. _pendingImages, new PromptText(text)])];

        /// <summary>Keeps the user turn and the answer in the history.</summary>
        public void Commit(List<PromptMessage> conversation, string answer)
        {
            _history.Clear();
            _history.AddRange(conversation);
            _history.Add(PromptMessage.FromText("assistant", answer));
            _pendingImages.Clear();
        }
    }
}
