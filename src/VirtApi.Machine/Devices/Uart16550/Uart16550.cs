using VirtApi.Machine.Bus;

namespace VirtApi.Machine.Devices;

/// <summary>Where the UART's transmitted bytes go.</summary>
public interface ISerialSink
{
    void Transmit(byte value);
}

/// <summary>
/// A 16550A UART at 0x1000_0000, PLIC source 10 (National Semiconductor PC16550D data sheet):
/// RBR/THR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, and the divisor latch behind LCR.DLAB.
/// Transmission is instant (THR is always empty); received bytes wait in a FIFO fed from outside.
/// The FIFO is deeper than a real 16550's 16 bytes so that a typed line is not dropped while the
/// guest is between polls.
/// </summary>
public sealed class Uart16550 : IMmioDevice
{
    public const ulong Size = 0x100;
    public const int ReceiveCapacity = 4096;

    private const byte LsrDataReady = 0x01;
    private const byte LsrThrEmpty = 0x20;
    private const byte LsrTransmitterEmpty = 0x40;
    private const byte IerReceivedData = 0x01;
    private const byte IerThrEmpty = 0x02;

    private readonly IInterruptLine _irq;
    private readonly Queue<byte> _receive = new();
    private byte _ier;
    private byte _lcr;
    private byte _mcr;
    private byte _scr;
    private byte _fcr;
    private byte _dll = 1;
    private byte _dlm;
    private bool _thrEmptyPending;

    public Uart16550(IInterruptLine irq) => _irq = irq;

    public ISerialSink? Sink { get; set; }

    /// <summary>Bytes waiting in the receive FIFO.</summary>
    public int PendingInput => _receive.Count;

    /// <summary>Feeds the receive FIFO; returns how many bytes fit.</summary>
    public int Receive(ReadOnlySpan<byte> data)
    {
        var accepted = 0;
        foreach (var b in data)
        {
            if (_receive.Count >= ReceiveCapacity)
            {
                break;
            }
            _receive.Enqueue(b);
            accepted++;
        }
        UpdateInterrupt();
        return accepted;
    }

    /// <summary>The registers and the receive FIFO, for a snapshot.</summary>
    public UartState Save() => new()
    {
        Ier = _ier,
        Lcr = _lcr,
        Mcr = _mcr,
        Scr = _scr,
        Fcr = _fcr,
        Dll = _dll,
        Dlm = _dlm,
        ReceiveFifo = [.. _receive],
        ThrEmptyPending = _thrEmptyPending,
    };

    /// <summary>
    /// A UART holding <paramref name="state"/>; it drives its interrupt line at once to the level its
    /// registers and FIFO give, the level it had when saved.
    /// </summary>
    public static Uart16550 Restore(UartArgs args, UartState state)
    {
        if (state.ReceiveFifo.IsDefault || state.ReceiveFifo.Length > ReceiveCapacity)
        {
            throw new ArgumentException($"the receive FIFO holds at most {ReceiveCapacity} bytes", nameof(state));
        }
        var uart = new Uart16550(args.Irq)
        {
            Sink = args.Sink,
            _ier = state.Ier,
            _lcr = state.Lcr,
            _mcr = state.Mcr,
            _scr = state.Scr,
            _fcr = state.Fcr,
            _dll = state.Dll,
            _dlm = state.Dlm,
            _thrEmptyPending = state.ThrEmptyPending,
        };
        uart.Receive(state.ReceiveFifo.AsSpan());
        return uart;
    }

    private bool Dlab => (_lcr & 0x80) != 0;

    public bool Read(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (size != 1)
        {
            return false;
        }
        switch (offset)
        {
            case 0 when Dlab: value = _dll; break;
            case 0:
                if (_receive.Count > 0)
                {
                    value = _receive.Dequeue();
                }
                break;
            case 1 when Dlab: value = _dlm; break;
            case 1: value = _ier; break;
            case 2:
                value = InterruptIdentification();
                if ((value & 0x0f) == 0x02)
                {
                    _thrEmptyPending = false; // reading IIR clears a THR-empty interrupt
                }
                break;
            case 3: value = _lcr; break;
            case 4: value = _mcr; break;
            case 5: value = (byte)((_receive.Count > 0 ? LsrDataReady : 0) | LsrThrEmpty | LsrTransmitterEmpty); break;
            case 6: value = 0xb0; break; // MSR: CTS, DSR and DCD asserted
            case 7: value = _scr; break;
            default: return false;
        }
        UpdateInterrupt();
        return true;
    }

    public bool Write(ulong offset, int size, ulong value)
    {
        if (size != 1)
        {
            return false;
        }
        var b = (byte)value;
        switch (offset)
        {
            case 0 when Dlab: _dll = b; break;
            case 0:
                Sink?.Transmit(b);
                _thrEmptyPending = true;
                break;
            case 1 when Dlab: _dlm = b; break;
            case 1:
                var enablingThr = (b & IerThrEmpty) != 0 && (_ier & IerThrEmpty) == 0;
                _ier = (byte)(b & 0x0f);
                if (enablingThr)
                {
                    _thrEmptyPending = true; // THR is empty, so enabling its interrupt raises it at once
                }
                break;
            case 2:
                _fcr = b;
                if ((b & 0x02) != 0)
                {
                    _receive.Clear();
                }
                break;
            case 3: _lcr = b; break;
            case 4: _mcr = (byte)(b & 0x1f); break;
            case 5 or 6: break; // LSR and MSR are read-only
            case 7: _scr = b; break;
            default: return false;
        }
        UpdateInterrupt();
        return true;
    }

    /// <summary>IIR: 0x01 none, 0x04 received data available, 0x02 THR empty; FIFO bits when FCR enabled them.</summary>
    private byte InterruptIdentification()
    {
        var fifo = (byte)((_fcr & 1) != 0 ? 0xc0 : 0);
        if ((_ier & IerReceivedData) != 0 && _receive.Count > 0)
        {
            return (byte)(fifo | 0x04);
        }
        if ((_ier & IerThrEmpty) != 0 && _thrEmptyPending)
        {
            return (byte)(fifo | 0x02);
        }
        return (byte)(fifo | 0x01);
    }

    private void UpdateInterrupt() => _irq.SetLevel((InterruptIdentification() & 1) == 0);
}
