using Idefics3.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Idefics3.Modeling;

/// <summary>
/// Supplies each parameter while the module tree is being constructed, so no module ever holds randomly initialised
/// weights: either the checkpoint tensor (zero-copy when dtypes agree) or an empty tensor on the <c>meta</c> device.
/// </summary>
internal abstract class WeightSource
{
    protected WeightSource(ScalarType dtype) => Dtype = dtype;

    /// <summary>Gets the compute dtype of the model under construction.</summary>
    public ScalarType Dtype { get; }

    /// <summary>Returns the parameter <paramref name="name"/> with the expected shape.</summary>
    public abstract Parameter Get(string name, params long[] shape);

    protected static Parameter Wrap(Tensor tensor)
    {
        var parameter = new Parameter(tensor, requires_grad: false);
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    protected Parameter Meta(long[] shape) => Wrap(torch.empty(shape, Dtype, device: torch.META));
}

/// <summary>Shape-only parameters on the meta device: builds the full module tree without allocating weights.</summary>
internal sealed class MetaWeightSource(ScalarType dtype) : WeightSource(dtype)
{
    public override Parameter Get(string name, params long[] shape) => Meta(shape);
}

/// <summary>
/// Parameters from a safetensors checkpoint. Problems (missing tensors, shape mismatches) are collected and reported
/// together by <see cref="ThrowIfIncomplete"/>, which also reports the checkpoint tensors nobody asked for.
/// </summary>
internal sealed class CheckpointWeightSource(SafetensorsCheckpoint checkpoint, ScalarType dtype, Device device) : WeightSource(dtype)
{
    private readonly HashSet<string> _requested = new(StringComparer.Ordinal);
    private readonly List<string> _missing = [];
    private readonly List<string> _mismatched = [];
    private readonly Dictionary<string, MappedFileStamp> _mapped = new(StringComparer.Ordinal);

    /// <summary>Gets the files the returned parameters are views of (the model reads them for as long as it lives).</summary>
    public IReadOnlyCollection<MappedFileStamp> MappedFiles => _mapped.Values;

    public override Parameter Get(string name, params long[] shape)
    {
        _requested.Add(name);
        if (!checkpoint.Contains(name))
        {
            _missing.Add(name);
            return Meta(shape);
        }

        SafetensorsEntry entry = checkpoint.Entry(name);
        if (!entry.Shape.SequenceEqual(shape))
        {
            _mismatched.Add($"'{name}': checkpoint has [{string.Join(", ", entry.Shape)}], model expects [{string.Join(", ", shape)}]");
            return Meta(shape);
        }

        Tensor tensor = checkpoint.Load(name, Dtype);
        if (device.type != DeviceType.CPU)
        {
            using Tensor cpu = tensor;
            tensor = cpu.to(device);
        }
        else if (checkpoint.MappedFileOf(name, Dtype) is MappedFileStamp stamp)
        {
            _mapped.TryAdd(stamp.Path, stamp);
        }

        return Wrap(tensor);
    }

    /// <summary>Throws one <see cref="CheckpointException"/> listing every missing, mis-shaped and unexpected tensor.</summary>
    public void ThrowIfIncomplete(IEnumerable<string> ignorable)
    {
        var ignore = new HashSet<string>(ignorable, StringComparer.Ordinal);
        var unexpected = checkpoint.Names
            .Where(n => !_requested.Contains(n) && !ignore.Contains(n) && !n.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (_missing.Count == 0 && _mismatched.Count == 0 && unexpected.Count == 0)
        {
            return;
        }

        var message = new System.Text.StringBuilder("The checkpoint does not fit the model described by config.json.");
        Append(message, "missing tensors", _missing);
        Append(message, "shape mismatches", _mismatched);
        Append(message, "unexpected tensors", unexpected);
        throw new CheckpointException(message.ToString());
    }

    private static void Append(System.Text.StringBuilder message, string title, List<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        const int Shown = 20;
        message.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n{items.Count} {title}:");
        foreach (string item in items.Take(Shown))
        {
            message.Append("\n  ").Append(item);
        }

        if (items.Count > Shown)
        {
            message.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n  ... and {items.Count - Shown} more");
        }
    }
}
