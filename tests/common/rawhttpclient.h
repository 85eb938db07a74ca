// A client that writes requests byte for byte and reads exactly what the server wrote: for
// tests of framing, limits and headers that an HTTP client library would tidy away.
#pragma once

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTest>

class RawHttpClient
{
public:
    explicit RawHttpClient(quint16 port)
    {
        m_socket.connectToHost(QStringLiteral("127.0.0.1"), port);
        QVERIFY(m_socket.waitForConnected(5000));
    }

    void send(const QByteArray &bytes) { m_socket.write(bytes); m_socket.flush(); }

    /// Reads until `needle` has arrived (or the peer closed), returns everything read so far.
    QByteArray readUntil(const QByteArray &needle, int timeoutMs = 5000)
    {
        QElapsedTimer clock;
        clock.start();
        while (!m_received.contains(needle) && clock.elapsed() < timeoutMs) {
            if (m_socket.state() != QAbstractSocket::ConnectedState && m_socket.bytesAvailable() == 0)
                break;
            if (m_socket.bytesAvailable() == 0)
                QTest::qWait(5);
            m_received += m_socket.readAll();
        }
        return m_received;
    }

    /// Reads until the peer closes; whether it did within `timeoutMs`.
    bool waitClosed(int timeoutMs = 5000)
    {
        QElapsedTimer clock;
        clock.start();
        while (m_socket.state() == QAbstractSocket::ConnectedState && clock.elapsed() < timeoutMs) {
            QTest::qWait(10);
            m_received += m_socket.readAll();
        }
        m_received += m_socket.readAll();
        return m_socket.state() != QAbstractSocket::ConnectedState;
    }

    const QByteArray &received() const { return m_received; }
    void abort() { m_socket.abort(); }
    void clear() { m_received.clear(); }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
};
