namespace VirtApi.Machine.Devices.Virtio;

/// <summary>
/// A virtio console (virtio 1.2 §5.3), device ID 3, one port: receiveq 0 and transmitq 1, no feature
/// bits (no VIRTIO_CONSOLE_F_SIZE, MULTIPORT or EMERG_WRITE), so no configuration field is valid and
/// the configuration space is empty (§5.3.4). Bytes the driver transmits go to <see cref="Sink"/> as
/// the UART's do; bytes from outside wait in an input buffer until the driver has posted receive
/// buffers, and are then copied into as many as they need (§5.3.6).
/// </summary>
public sealed class VirtioConsole : IVirtioDevice
{
    /// <summary>Device ID of a console (§5.3.1).</summary>
    public const uint Id = 3;

    /// <summary>receiveq(port0).</summary>
    public const int ReceiveQueue = 0;

    /// <summary>transmitq(port0).</summary>
    public const int TransmitQueue = 1;

    /// <summary>Input bytes held for the driver at most, as <see cref="Uart16550.ReceiveCapacity"/>.</summary>
    public const int InputCapacity = 4096;

    // Input waits in a ring so a delivery can copy it straight into guest buffers: no allocation,
    // and a byte leaves only once the guest memory write has succeeded.
    private readonly byte[] _input = new byte[InputCapacity];
    private readonly byte[] _transmit = new byte[256];
    private int _inputHead;
    private int _inputCount;
    private IVirtioTransport? _transport;

    /// <summary>Where transmitted bytes go; null drops them.</summary>
    public ISerialSink? Sink { get; set; }

    /// <summary>Input bytes not yet delivered to the driver.</summary>
    public int PendingInput => _inputCount;

    public uint DeviceId => Id;

    public ulong DeviceFeatures => 0;

    public int QueueCount => 2;

    public int ConfigSize => 0;

    /// <summary>
    /// Queues input for the driver and delivers what receive buffers allow at once; returns how many
    /// bytes fit in the input buffer (the rest are refused, as a full UART FIFO refuses them).
    /// </summary>
    public int Receive(ReadOnlySpan<byte> data)
    {
        var accepted = Math.Min(data.Length, InputCapacity - _inputCount);
        for (var i = 0; i < accepted; i++)
        {
            _input[(_inputHead + _inputCount + i) % InputCapacity] = data[i];
        }
        _inputCount += accepted;
        if (accepted > 0)
        {
            _transport?.Service(ReceiveQueue);
        }
        return accepted;
    }

    /// <summary>The input not yet delivered, for a snapshot.</summary>
    public VirtioConsoleState Save()
    {
        var pending = new byte[_inputCount];
        for (var i = 0; i < _inputCount; i++)
        {
            pending[i] = _input[(_inputHead + i) % InputCapacity];
        }
        return new VirtioConsoleState { PendingInput = [.. pending] };
    }

    /// <summary>A console holding <paramref name="state"/>'s input; its transport is restored after it, from <see cref="VirtioMmioState"/>.</summary>
    public static VirtioConsole Restore(VirtioConsoleArgs args, VirtioConsoleState state)
    {
        if (state.PendingInput.IsDefault || state.PendingInput.Length > InputCapacity)
        {
            throw new ArgumentException($"the input buffer holds at most {InputCapacity} bytes", nameof(state));
        }
        var console = new VirtioConsole { Sink = args.Sink };
        state.PendingInput.CopyTo(console._input);
        console._inputCount = state.PendingInput.Length;
        return console;
    }

    public void ReadConfig(int offset, Span<byte> destination)
    {
        // ConfigSize is 0: the transport never calls this.
    }

    public bool WriteConfig(int offset, ReadOnlySpan<byte> source) => false;

    public void Attach(IVirtioTransport transport) => _transport = transport;

    /// <summary>The receive queue's buffers are taken only while there is input to put in them.</summary>
    public bool CanConsume(int queueIndex) => queueIndex != ReceiveQueue || _inputCount > 0;

    public bool Process(int queueIndex, DescriptorChain chain, out uint written)
    {
        written = 0;
        return queueIndex == ReceiveQueue ? Deliver(chain, out written) : Transmit(chain);
    }

    /// <summary>A receive buffer: as much pending input as its writable part holds; readable descriptors in it mean nothing and are ignored.</summary>
    private bool Deliver(DescriptorChain chain, out uint written)
    {
        written = 0;
        while (written < chain.WritableLength && _inputCount > 0)
        {
            var run = (int)Math.Min(Math.Min(_inputCount, InputCapacity - _inputHead), chain.WritableLength - written);
            if (!chain.TryWrite(written, _input.AsSpan(_inputHead, run)))
            {
                return false;
            }
            _inputHead = (_inputHead + run) % InputCapacity;
            _inputCount -= run;
            written += (uint)run;
            _transport?.Counters.BytesTransferred += (ulong)run;
        }
        return true;
    }

    /// <summary>A transmit buffer: its readable bytes, in order, to the sink; the device writes nothing back.</summary>
    private bool Transmit(DescriptorChain chain)
    {
        for (uint done = 0; done < chain.ReadableLength;)
        {
            var chunk = _transmit.AsSpan(0, (int)Math.Min((uint)_transmit.Length, chain.ReadableLength - done));
            if (!chain.TryRead(done, chunk))
            {
                return false;
            }
            foreach (var b in chunk)
            {
                Sink?.Transmit(b);
            }
            done += (uint)chunk.Length;
            _transport?.Counters.BytesTransferred += (ulong)chunk.Length;
        }
        return true;
    }
}
