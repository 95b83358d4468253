namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// A VM's console output: a bounded ring addressed by absolute byte offsets, so a client that asks
/// <c>since=N</c> gets the bytes from N on (or from the oldest kept, when N fell out of the ring) and
/// the offset to ask from next. Offsets keep growing across reboots, so a client's next offset
/// stays valid; each run records where its output starts. Bytes pushed out of the ring are counted as dropped. The worker thread
/// appends; API threads read under the same lock, never touching the machine.
/// </summary>
public sealed class ConsoleLog
{
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private byte[] _ring;
    private long _written;

    public ConsoleLog(int capacity = 1 << 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 16);
        _capacity = capacity;
        // The ring grows as output arrives, so an idle VM that printed a line costs a few KiB, not the bound.
        _ring = new byte[Math.Min(capacity, 4096)];
    }

    /// <summary>Bytes the guest has written in all, including dropped ones: the offset of the next byte.</summary>
    public long Written
    {
        get
        {
            lock (_lock)
            {
                return _written;
            }
        }
    }

    /// <summary>Bytes no longer kept because newer output pushed them out.</summary>
    public long Dropped
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(0, _written - _capacity);
            }
        }
    }

    public void Append(byte value)
    {
        lock (_lock)
        {
            Put(value);
        }
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            foreach (var b in bytes)
            {
                Put(b);
            }
        }
    }

    private void Put(byte value)
    {
        if (_written == _ring.Length && _ring.Length < _capacity)
        {
            // Not wrapped yet, so the bytes are in order: copy them into a ring twice the size.
            Array.Resize(ref _ring, Math.Min(_capacity, _ring.Length * 2));
        }
        _ring[_written % _ring.Length] = value;
        _written++;
    }

    /// <summary>Up to <paramref name="max"/> bytes from offset <paramref name="since"/>.</summary>
    public ConsoleChunk Read(long since, int max = 64 * 1024)
    {
        lock (_lock)
        {
            var oldest = Math.Max(0, _written - _ring.Length);
            var start = Math.Clamp(since, oldest, _written);
            var count = (int)Math.Min(max, _written - start);
            var bytes = new byte[count];
            for (var i = 0; i < count; i++)
            {
                bytes[i] = _ring[(start + i) % _ring.Length];
            }
            return new ConsoleChunk(start, start + count, bytes, Missed: start - Math.Min(since, start), Dropped: oldest);
        }
    }
}

/// <summary>A piece of console output.</summary>
/// <param name="Offset">Offset of the first byte.</param>
/// <param name="Next">The offset to ask from next.</param>
/// <param name="Bytes">The bytes, as the guest wrote them.</param>
/// <param name="Missed">Bytes between the offset asked for and <paramref name="Offset"/> that were dropped.</param>
/// <param name="Dropped">Bytes dropped in all so far.</param>
public sealed record ConsoleChunk(long Offset, long Next, byte[] Bytes, long Missed, long Dropped);
