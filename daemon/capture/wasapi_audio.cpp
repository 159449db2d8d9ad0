#include "wasapi_audio.hpp"

#include <audioclient.h>
#include <fmt/format.h>
#include <mmdeviceapi.h>
#include <spdlog/spdlog.h>
#include <windows.h>
#include <wrl/client.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include "../../common/error.hpp"
#include "../../common/log.hpp"
#include "../../common/win32.hpp"
#include "wasapi_convert.hpp"
#include "wasapi_device_watch.hpp"
#include "wasapi_devices.hpp"

namespace rec {
namespace {

using Microsoft::WRL::ComPtr;
using Hns = std::chrono::duration<int64_t, std::ratio<1, 10'000'000>>;  // REFERENCE_TIME units

// The endpoint buffer we ask for: the acap thread may be 150 ms late (a loaded machine) before
// samples are lost, while the engine still hands packets over every period (10 ms).
constexpr REFERENCE_TIME buffer_hns = Hns(std::chrono::milliseconds(200)).count();
// The acap thread waits for WASAPI's "packet ready" event but at most this long: loopback
// streams on Windows 10 before 1703 never signal the event (Microsoft's "Loopback Recording"
// page), and polling at twice the engine period covers them at no cost elsewhere.
constexpr DWORD poll_ms = 20;
// A lost device is looked for again every second ("reconnects within 5 s").
constexpr DWORD retry_ms = 1000;

const char* kind_name(AudioKind kind) { return kind == AudioKind::system ? "system" : "mic"; }

// The failures a user can act on by name; the rest by number (AUDCLNT_E_* have no system text).
std::string audio_error_text(HRESULT hr) {
    static const std::pair<HRESULT, const char*> known[] = {
        {HRESULT_FROM_WIN32(ERROR_NOT_FOUND), "no such endpoint"},
        {AUDCLNT_E_DEVICE_INVALIDATED, "device removed"},
        {AUDCLNT_E_DEVICE_IN_USE, "device in exclusive use"},
        {AUDCLNT_E_UNSUPPORTED_FORMAT, "unsupported mix format"},
        {AUDCLNT_E_WRONG_ENDPOINT_TYPE, "wrong endpoint type (no loopback here?)"},
        {AUDCLNT_E_SERVICE_NOT_RUNNING, "Windows Audio service not running"},
        {E_ACCESSDENIED, "access denied: privacy settings?"}};
    for (const auto& [code, name] : known)
        if (code == hr) return fmt::format("{}, {}", name, hresult_text(hr));
    return hresult_text(hr);
}

// QueryPerformanceCounter in 100-ns units, computed as WASAPI computes qpcPosition (seconds and
// remainder apart: the plain product overflows after a day at 10 MHz).
int64_t qpc_hns() {
    LARGE_INTEGER count, freq;
    QueryPerformanceCounter(&count);
    QueryPerformanceFrequency(&freq);
    const int64_t c = count.QuadPart, f = freq.QuadPart;
    return c / f * 10'000'000 + c % f * 10'000'000 / f;
}

// rec::Clock minus QPC time. steady_clock counts the QPC itself: MSVC's now() scales
// QueryPerformanceCounter; libstdc++'s calls clock_gettime(CLOCK_MONOTONIC), which winpthreads
// computes from QueryPerformanceCounter/Frequency (checked in mingw-w64's libstdc++.a and
// libwinpthread.a). So this is a constant (0 give or take rounding), measured rather than
// assumed from one now() between two QPC readings.
Clock::duration measure_qpc_offset() {
    const int64_t before = qpc_hns();
    const TimePoint now = Clock::now();
    const int64_t after = qpc_hns();
    return now.time_since_epoch() -
           std::chrono::duration_cast<Clock::duration>(Hns(before + after) / 2);
}

}  // namespace

struct WasapiAudioSource::Shared {
    Shared(AudioKind k, std::string r) : kind(k), requested(std::move(r)) {}

    const AudioKind kind;
    const std::string requested;  // an endpoint id; empty follows the default
    ChunkFn on_chunk;             // set by start() before the acap thread exists
    UniqueHandle stop{CreateEventW(nullptr, TRUE, FALSE, nullptr)};     // set by stop()
    UniqueHandle rewire{CreateEventW(nullptr, FALSE, FALSE, nullptr)};  // by watch_default_endpoint
    UniqueHandle ready{
        CreateEventW(nullptr, FALSE, FALSE, nullptr)};  // by WASAPI: a packet is ready
    std::atomic<bool> connected{false};
    mutable std::mutex device_mutex;
    std::string device;  // written by the acap thread

    void set_device(std::string name) {
        std::lock_guard lock(device_mutex);
        device = std::move(name);
    }
    std::string get_device() const {
        std::lock_guard lock(device_mutex);
        return device;
    }
};

namespace {

// The acap thread's COM objects: created, used and released on that thread, inside the COM
// apartment acap_thread() enters before and leaves after it.
class Capture {
public:
    explicit Capture(WasapiAudioSource::Shared& shared) : s_(shared) {}
    ~Capture() { drop_enumerator(); }

    // Returns "" or why the endpoint cannot be recorded.
    std::string connect();
    // Until stop(): reads packets, follows the default, reconnects.
    void run();

private:
    std::string make_enumerator();
    void drop_enumerator();
    HRESULT open(IMMDevice& device);
    HRESULT activate(IMMDevice& device, DWORD flags, const WAVEFORMATEX& format);
    HRESULT open_mix_format(IMMDevice& device, DWORD flags);
    void disconnect();
    void reconnect();
    bool drain();
    void deliver(const BYTE* data, UINT32 frames, DWORD flags, UINT64 qpc);

    bool loopback() const { return s_.kind == AudioKind::system; }
    const char* kind() const { return kind_name(s_.kind); }

    WasapiAudioSource::Shared& s_;
    ComPtr<IMMDeviceEnumerator> enumerator_;
    ComPtr<IMMNotificationClient> watch_;  // registered while following the default
    ComPtr<IAudioClient> client_;
    ComPtr<IAudioCaptureClient> capture_;
    WasapiConverter converter_;  // active only when Windows would not convert
    Clock::duration qpc_offset_{};
    bool retrying_ = false;  // a loss was logged; the next success is logged
    std::vector<BYTE> zeros_;
};

std::string Capture::make_enumerator() {
    const HRESULT hr = CoCreateInstance(__uuidof(MMDeviceEnumerator), nullptr, CLSCTX_ALL,
                                        IID_PPV_ARGS(&enumerator_));
    if (FAILED(hr)) return "no audio device enumerator (" + audio_error_text(hr) + ")";
    if (s_.requested.empty())
        watch_ = watch_default_endpoint(*enumerator_.Get(), loopback() ? eRender : eCapture,
                                        s_.rewire.get());
    return {};
}

void Capture::drop_enumerator() {
    disconnect();
    if (watch_) enumerator_->UnregisterEndpointNotificationCallback(watch_.Get());
    watch_.Reset();
    enumerator_.Reset();
}

// System sound follows the console role's render endpoint (what Windows plays to). The mic
// follows the console role's capture endpoint too, Windows' "Default Device", what a recorder
// means by "the microphone" and PulseAudio's default source's counterpart. (OBS takes the
// communications role; headset users who split the roles may expect that instead.)
std::string Capture::connect() {
    if (!enumerator_)
        if (auto failure = make_enumerator(); !failure.empty()) return failure;
    ComPtr<IMMDevice> device;
    HRESULT hr = s_.requested.empty()
                     ? enumerator_->GetDefaultAudioEndpoint(loopback() ? eRender : eCapture,
                                                            eConsole, &device)
                     : enumerator_->GetDevice(to_utf16(s_.requested).c_str(), &device);
    if (SUCCEEDED(hr)) hr = open(*device.Get());
    if (FAILED(hr)) {
        drop_enumerator();  // the next try starts afresh (the audio service may have restarted)
        return fmt::format("cannot open {} ({})",
                           s_.requested.empty() ? "the default endpoint" : s_.requested,
                           audio_error_text(hr));
    }
    const std::string id = endpoint_id(*device.Get()), name = endpoint_name(*device.Get());
    s_.set_device(name.empty() ? id : name);
    s_.connected = true;
    retrying_ = false;
    spdlog::info("{} audio: recording {} ({}){}", kind(), name, id,
                 converter_.active() ? ", converting its mix format" : "");
    return {};
}

// Asks Windows for float stereo at 48 kHz (AUTOCONVERTPCM: its own converter and resampler at
// default quality), else takes the mix format and converts here.
HRESULT Capture::open(IMMDevice& device) {
    const WAVEFORMATEXTENSIBLE want = WasapiConverter::output_format();
    const DWORD flags =
        AUDCLNT_STREAMFLAGS_EVENTCALLBACK | (loopback() ? AUDCLNT_STREAMFLAGS_LOOPBACK : 0);
    HRESULT hr = activate(
        device,
        flags | AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM | AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY,
        want.Format);
    if (FAILED(hr) && hr != AUDCLNT_E_DEVICE_INVALIDATED) {
        spdlog::debug("{} audio: no converted stream ({}); trying the mix format", kind(),
                      audio_error_text(hr));
        hr = open_mix_format(device, flags);
    }
    if (SUCCEEDED(hr)) hr = client_->SetEventHandle(s_.ready.get());
    if (SUCCEEDED(hr)) hr = client_->GetService(IID_PPV_ARGS(&capture_));
    if (SUCCEEDED(hr)) qpc_offset_ = measure_qpc_offset();
    if (SUCCEEDED(hr)) hr = client_->Start();
    if (FAILED(hr)) disconnect();
    return hr;
}

HRESULT Capture::activate(IMMDevice& device, DWORD flags, const WAVEFORMATEX& format) {
    HRESULT hr = device.Activate(__uuidof(IAudioClient), CLSCTX_ALL, nullptr,
                                 reinterpret_cast<void**>(client_.ReleaseAndGetAddressOf()));
    if (SUCCEEDED(hr))
        hr = client_->Initialize(AUDCLNT_SHAREMODE_SHARED, flags, buffer_hns, 0, &format, nullptr);
    return hr;
}

// The stream in the mix format, converted here (WasapiConverter) as it is read.
HRESULT Capture::open_mix_format(IMMDevice& device, DWORD flags) {
    ComPtr<IAudioClient> probe;
    HRESULT hr = device.Activate(__uuidof(IAudioClient), CLSCTX_ALL, nullptr, &probe);
    WAVEFORMATEX* raw = nullptr;
    if (SUCCEEDED(hr)) hr = probe->GetMixFormat(&raw);
    if (FAILED(hr)) return hr;
    const UniqueCoTask<WAVEFORMATEX> mix(raw);
    if (!converter_.open(*mix)) return AUDCLNT_E_UNSUPPORTED_FORMAT;
    return activate(device, flags, *mix);
}

void Capture::disconnect() {
    if (client_) client_->Stop();
    capture_.Reset();
    client_.Reset();
    converter_.close();
    s_.connected = false;
    s_.set_device("");
}

void Capture::reconnect() {
    disconnect();
    const std::string failure = connect();
    if (failure.empty() || retrying_) return;
    spdlog::warn("{} audio: {}; retrying every second", kind(), failure);
    retrying_ = true;
}

void Capture::run() {
    const HANDLE events[] = {s_.stop.get(), s_.rewire.get(), s_.ready.get()};
    for (;;) {
        // Connected: wait for a packet (or the poll); disconnected: a new default or the retry.
        const DWORD woke =
            WaitForMultipleObjects(client_ ? 3 : 2, events, FALSE, client_ ? poll_ms : retry_ms);
        if (woke == WAIT_OBJECT_0) return;
        if (woke == WAIT_FAILED) throw Error(ErrorCode::internal, "WaitForMultipleObjects failed");
        if (woke == WAIT_OBJECT_0 + 1 && client_)
            spdlog::info("{} audio: the default device changed", kind());
        if (woke == WAIT_OBJECT_0 + 1 || !client_)
            reconnect();
        else if (!drain())
            disconnect();  // reconnect() from the next second on
    }
}

// Reads every packet there is. A loopback stream delivers nothing while nothing plays (no
// packets, not silent ones): the track's timeline fills that gap from the timestamps.
bool Capture::drain() {
    for (;;) {
        BYTE* data = nullptr;
        UINT32 frames = 0;
        DWORD flags = 0;
        UINT64 qpc = 0;
        HRESULT hr = capture_->GetBuffer(&data, &frames, &flags, nullptr, &qpc);
        if (hr == AUDCLNT_S_BUFFER_EMPTY) return true;
        if (SUCCEEDED(hr)) {
            deliver(data, frames, flags, qpc);
            hr = capture_->ReleaseBuffer(frames);
        }
        if (FAILED(hr)) {
            spdlog::warn("{} audio: lost {} ({}); retrying every second", kind(), s_.get_device(),
                         audio_error_text(hr));
            retrying_ = true;
            return false;
        }
    }
}

// Stamps a packet with its first frame's QPC time (when the endpoint recorded it; for loopback,
// when the engine mixed it) on rec::Clock and hands it on as float stereo at 48 kHz.
void Capture::deliver(const BYTE* data, UINT32 frames, DWORD flags, UINT64 qpc) {
    // Samples were lost before this packet (an overrun, or the stream's start): the timeline
    // sees the gap in the timestamps. A stamp Windows doubts (TIMESTAMP_ERROR) is still the best.
    if (flags & (AUDCLNT_BUFFERFLAGS_DATA_DISCONTINUITY | AUDCLNT_BUFFERFLAGS_TIMESTAMP_ERROR))
        spdlog::debug("{} audio: packet flags {:#x}", kind(), flags);
    if (flags & AUDCLNT_BUFFERFLAGS_SILENT) {  // its data is to be ignored: zeros
        zeros_.resize(static_cast<size_t>(frames) * converter_.block_align());
        data = zeros_.data();
    }
    const TimePoint time{std::chrono::duration_cast<Clock::duration>(Hns(qpc)) + qpc_offset_};
    if (converter_.active())
        converter_.convert(data, frames, time, s_.on_chunk);
    else
        s_.on_chunk(reinterpret_cast<const float*>(data), frames, time);
}

// The acap thread. Reports the first connection through `started` (start() waits for it); from
// then on errors are retried, and anything thrown ends the capture (logged), not the daemon.
void acap_thread(WasapiAudioSource::Shared& s, std::promise<std::string> started) {
    set_thread_name(std::string("acap-") + kind_name(s.kind));
    bool reported = false;
    // MTA: this thread pumps no messages, and WASAPI's objects are free-threaded.
    const HRESULT com = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    try {
        Capture capture(s);
        const std::string failure =
            SUCCEEDED(com) ? capture.connect() : "no COM (" + audio_error_text(com) + ")";
        reported = true;
        started.set_value(failure);
        if (failure.empty()) capture.run();
    } catch (...) {
        const std::string what = exception_message(std::current_exception());
        if (!reported)
            started.set_value(what);
        else
            spdlog::error("{} audio: capture ended: {}", kind_name(s.kind), what);
    }
    s.connected = false;
    s.set_device("");
    if (SUCCEEDED(com)) CoUninitialize();
}

}  // namespace

WasapiAudioSource::WasapiAudioSource(AudioKind kind, std::string device)
    : shared_(std::make_unique<Shared>(kind, std::move(device))) {}

WasapiAudioSource::~WasapiAudioSource() { stop(); }

void WasapiAudioSource::start(ChunkFn on_chunk) {
    Shared& s = *shared_;
    if (!s.stop || !s.rewire || !s.ready)
        throw Error(ErrorCode::audio_unavailable, "cannot create events for audio capture");
    s.on_chunk = std::move(on_chunk);
    ResetEvent(s.stop.get());
    std::promise<std::string> started;
    auto first = started.get_future();
    thread_ = std::thread(acap_thread, std::ref(s), std::move(started));
    // WASAPI answers from the local audio service in milliseconds, or fails: no timeout here.
    const std::string failure = first.get();
    if (failure.empty()) return;
    thread_.join();
    throw Error(ErrorCode::audio_unavailable,
                fmt::format("cannot record {} audio: {}", kind_name(s.kind), failure));
}

void WasapiAudioSource::stop() {
    if (!thread_.joinable()) return;
    SetEvent(shared_->stop.get());
    thread_.join();
}

std::string WasapiAudioSource::device() const { return shared_->get_device(); }

bool WasapiAudioSource::connected() const { return shared_->connected.load(); }

}  // namespace rec
