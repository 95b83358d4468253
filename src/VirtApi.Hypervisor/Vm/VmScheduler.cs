using System.Collections.Concurrent;

namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// Runs every VM that has work in fixed instruction quanta on a few worker threads (no more than the
/// host's cores), round-robin: a worker that wants more goes to the back of the queue, so 100 running
/// VMs all make progress and a stop or delete takes effect within one quantum. A VM's results never
/// depend on this: its guest sees only instruction counts, and the machine's virtual time.
/// </summary>
public sealed class VmScheduler : IDisposable
{
    private readonly BlockingCollection<VmWorker> _ready = new(new ConcurrentQueue<VmWorker>());
    private readonly Thread[] _threads;
    private readonly ulong _quantum;
    private readonly Action<VmWorker, Exception> _onFault;

    /// <param name="threads">Worker threads; clamped to 1..cores.</param>
    /// <param name="quantum">Instructions a VM runs before the next VM's turn.</param>
    /// <param name="onFault">Called when a worker throws (a VMM bug), before the VM is crashed.</param>
    public VmScheduler(int threads, ulong quantum, Action<VmWorker, Exception> onFault)
    {
        ArgumentOutOfRangeException.ThrowIfZero(quantum);
        _quantum = quantum;
        _onFault = onFault;
        var count = Math.Clamp(threads, 1, Environment.ProcessorCount);
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"vm-scheduler-{i}" };
        }
    }

    public int ThreadCount => _threads.Length;

    public ulong Quantum => _quantum;

    public void Start()
    {
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>
    /// Creates a worker for <paramref name="spec"/> owned by this scheduler, starting from the status
    /// last stored (whose sequence number the worker continues, so stored order holds across restarts).
    /// </summary>
    public VmWorker CreateWorker(VmSpec spec, VmStatus initial, IGuestExecutionFactory executions, IVmEventSink events) =>
        new(spec, initial, executions, events) { Scheduler = this };

    /// <summary>Queues <paramref name="worker"/> unless it is queued or running already.</summary>
    internal void Wake(VmWorker worker)
    {
        if (Volatile.Read(ref _disposed) == 0 && Interlocked.CompareExchange(ref worker.Scheduled, 1, 0) == 0)
        {
            _ready.TryAdd(worker);
        }
    }

    private void Loop()
    {
        foreach (var worker in _ready.GetConsumingEnumerable())
        {
            bool again;
            try
            {
                again = worker.RunSlice(_quantum);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // A fault in the VMM stays in this VM: it crashes with the reason and is reported;
                // the other VMs and the server go on.
                _onFault(worker, exception);
                worker.Fault(exception);
                again = false;
            }
            Volatile.Write(ref worker.Scheduled, 0);
            // A command may have arrived after RunSlice looked; Wake re-queues in that case too.
            if (again || worker.HasPendingCommands)
            {
                Wake(worker);
            }
        }
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _ready.CompleteAdding();
        foreach (var thread in _threads)
        {
            if (thread.IsAlive)
            {
                thread.Join();
            }
        }
        _ready.Dispose();
    }
}
