using System.Diagnostics.Metrics;

namespace Idefics3.Tests.Engine;

/// <summary>
/// A meter factory of its own with a listener on the meters it made: an engine loaded with it as
/// <see cref="Idefics3EngineOptions.MeterFactory"/> reports here and nowhere else, so parallel tests do not interfere.
/// Keeps the running sum of every instrument (per <c>idefics3.token.type</c> too) and the peak of each sum.
/// </summary>
public sealed class MetricsProbe : IMeterFactory
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _sums = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _peaks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _models = new(StringComparer.Ordinal);
    private readonly List<Meter> _meters = [];
    private readonly Lock _lock = new();

    public MetricsProbe()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, this))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Gets the <c>idefics3.model</c> tags seen.</summary>
    public IReadOnlyCollection<string> Models
    {
        get
        {
            lock (_lock)
            {
                return [.. _models];
            }
        }
    }

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_lock)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    /// <summary>The sum of every measurement of <paramref name="instrument"/> (optionally of one token type).</summary>
    public long Sum(string instrument, string? tokenType = null)
    {
        lock (_lock)
        {
            return _sums.GetValueOrDefault(tokenType is null ? instrument : $"{instrument}|{tokenType}");
        }
    }

    /// <summary>The highest running sum <paramref name="instrument"/> reached (the peak of an up-down counter).</summary>
    public long Peak(string instrument)
    {
        lock (_lock)
        {
            return _peaks.GetValueOrDefault(instrument);
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? type = null;
        string? model = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "idefics3.token.type")
            {
                type = (string?)tag.Value;
            }
            else if (tag.Key == "idefics3.model")
            {
                model = (string?)tag.Value;
            }
        }

        lock (_lock)
        {
            Add(instrument.Name, value);
            if (type is not null)
            {
                Add($"{instrument.Name}|{type}", value);
            }

            if (model is not null)
            {
                _models.Add(model);
            }
        }
    }

    private void Add(string key, long value)
    {
        long sum = _sums.GetValueOrDefault(key) + value;
        _sums[key] = sum;
        _peaks[key] = Math.Max(_peaks.GetValueOrDefault(key), sum);
    }
}
